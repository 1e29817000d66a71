/// One heat pump from `heatpumps.yml`.
public struct DeviceConfig: Sendable, Hashable {
    public var id: String
    public var name: String
    public var location: String
    public var model: String
    public var enabled: Bool
    public var modbus: ModbusSettings
    /// Seconds between polls; defaults to `collector.poll_interval`.
    public var pollInterval: Double
    /// True when the entry has no `poll_interval` of its own and follows `collector.poll_interval`
    /// (a live change of the default reaches exactly these devices).
    public var inheritsPollInterval = false
    /// `config: {circuits: [A, B], zones: [0, 1]}` (idm_logger's key): the instances of the model's
    /// templates this device has. Keys absent here take the template's default instances.
    public var templateConfig: [String: [String]] = [:]

    public init(id: String, name: String, location: String = "", model: String, enabled: Bool = true,
                modbus: ModbusSettings, pollInterval: Double) {
        self.id = id
        self.name = name
        self.location = location
        self.model = model
        self.enabled = enabled
        self.modbus = modbus
        self.pollInterval = pollInterval
    }
}
