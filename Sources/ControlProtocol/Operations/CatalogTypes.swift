/// `GET /api/manufacturers`: one maker of the known models (built-in and registers.yml).
public struct ManufacturerSummary: Sendable, Codable, Hashable {
    /// The path key: the name lower-cased, `other` for models without a manufacturer.
    public var id: String
    public var name: String
    /// The makers' model names, sorted.
    public var models: [String]
    public init(id: String, name: String, models: [String]) {
        self.id = id
        self.name = name
        self.models = models
    }
}

/// `GET /api/manufacturers/{m}/models/{model}/setup`: what the add-device wizard shows before the connection step.
public struct ModelSetup: Sendable, Codable, Hashable {
    public var manufacturer: String
    public var model: String
    public var description: String
    /// How to enable Modbus on the controller (default port, unit id, limits); empty when the model has none.
    public var setup: String
    /// Circuits and zones the device's `config` may select.
    public var templates: [TemplateSummary]
    public init(manufacturer: String, model: String, description: String, setup: String, templates: [TemplateSummary]) {
        self.manufacturer = manufacturer
        self.model = model
        self.description = description
        self.setup = setup
        self.templates = templates
    }
}
