import Drivers
import HPCore

/// Everything a device actor runs with. Two equal runtimes mean "unchanged": a reload keeps the actor.
public struct DeviceRuntime: Sendable, Hashable {
    public var device: DeviceConfig
    public var model: ModelDefinition
    public var polling: PollingSettings

    public init(device: DeviceConfig, model: ModelDefinition, polling: PollingSettings) {
        self.device = device
        self.model = model
        self.polling = polling
    }

    /// The read planner for this device: the collector's limits, narrowed by the model's.
    public var planner: ReadPlanner { polling.planner(for: model) }

    public var labels: DeviceLabels {
        DeviceLabels(id: device.id, name: device.name, location: device.location, model: device.model, manufacturer: model.manufacturer)
    }
}

/// The collector settings that shape polling (others, like Influx batching, never restart devices).
public struct PollingSettings: Sendable, Hashable {
    public var maxGap: Int
    public var maxRegistersPerRequest: Int
    public var maxBitsPerRequest: Int
    public var backoffInitial: Double
    public var backoffMax: Double
    public var quarantineRetry: Double

    public init(_ c: CollectorSettings) {
        maxGap = c.maxGap
        maxRegistersPerRequest = c.maxRegistersPerRequest
        maxBitsPerRequest = c.maxBitsPerRequest
        backoffInitial = c.backoffInitial
        backoffMax = c.backoffMax
        quarantineRetry = c.quarantineRetry
    }

    /// The planner for devices of `model`: a model's `max_gap` / `max_registers_per_request` say what
    /// its controller tolerates, so the smaller of the model's and the collector's value applies.
    public func planner(for model: ModelDefinition) -> ReadPlanner {
        ReadPlanner(maxGap: min(maxGap, model.maxGap ?? maxGap),
                    maxRegisters: min(maxRegistersPerRequest, model.maxRegistersPerRequest ?? maxRegistersPerRequest),
                    maxBits: maxBitsPerRequest)
    }
}
