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
