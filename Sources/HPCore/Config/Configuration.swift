/// A complete, validated configuration: devices, resolved models, collector and display settings.
public struct Configuration: Sendable, Hashable {
    public var devices: [DeviceConfig]
    public var models: [String: ModelDefinition]
    public var collector: CollectorConfig
    /// `display.yml`, for the web console (defaults when the file is absent).
    public var display: DisplaySettings
    /// Problems that do not stop the load (e.g. display settings for a heat pump not in heatpumps.yml).
    public var warnings: [ConfigError]
    /// The directory the files were read from.
    public var directory: String

    public init(devices: [DeviceConfig], models: [String: ModelDefinition], collector: CollectorConfig,
                display: DisplaySettings = DisplaySettings(), warnings: [ConfigError] = [], directory: String) {
        self.devices = devices
        self.models = models
        self.collector = collector
        self.display = display
        self.warnings = warnings
        self.directory = directory
    }

    /// The model `device` polls: its model with the circuits/zones of its `config` expanded.
    public func model(for device: DeviceConfig) -> ModelDefinition? {
        models[device.model]?.expanded(device.templateConfig)
    }

    public func device(_ id: String) -> DeviceConfig? {
        devices.first { $0.id == id }
    }
}
