/// A complete, validated configuration: devices, resolved models, collector settings.
public struct Configuration: Sendable, Hashable {
    public var devices: [DeviceConfig]
    public var models: [String: ModelDefinition]
    public var collector: CollectorConfig
    /// The directory the files were read from.
    public var directory: String

    public init(devices: [DeviceConfig], models: [String: ModelDefinition], collector: CollectorConfig, directory: String) {
        self.devices = devices
        self.models = models
        self.collector = collector
        self.directory = directory
    }

    public func device(_ id: String) -> DeviceConfig? {
        devices.first { $0.id == id }
    }
}
