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

    public var planner: ReadPlanner {
        ReadPlanner(maxGap: maxGap, maxRegisters: maxRegistersPerRequest, maxBits: maxBitsPerRequest)
    }
}
