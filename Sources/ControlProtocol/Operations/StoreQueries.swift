/// `models`: every model the daemon knows.
public struct ModelSummary: Sendable, Codable, Hashable {
    public var name: String
    public var manufacturer: String
    public var description: String
    public var registers: Int
    /// `builtin` or the registers.yml that defines it.
    public var source: String
    /// How to enable Modbus on the controller (default port, unit id, limits).
    public var setup: String
    /// Repeated blocks a device selects with `config:` (IDM circuits, zones).
    public var templates: [TemplateSummary]
    /// Register groups a device polls only when `config: {groups: [...]}` selects them; nil: none.
    public var groups: [GroupSummary]?

    public init(name: String, manufacturer: String, description: String, registers: Int, source: String,
                setup: String = "", templates: [TemplateSummary] = [], groups: [GroupSummary]? = nil) {
        self.name = name
        self.manufacturer = manufacturer
        self.description = description
        self.registers = registers
        self.source = source
        self.setup = setup
        self.templates = templates
        self.groups = groups
    }
}

/// One register group of a model: its name (the `config.groups` entry), what it holds, and how many
/// registers it has with every template instance.
public struct GroupSummary: Sendable, Codable, Hashable {
    public var name: String
    public var description: String
    public var registers: Int

    public init(name: String, description: String, registers: Int) {
        self.name = name
        self.description = description
        self.registers = registers
    }
}

/// One template of a model: the `config:` key, its instances and the default selection.
public struct TemplateSummary: Sendable, Codable, Hashable {
    public var key: String
    public var label: String
    public var instances: [String]
    public var defaultInstances: [String]
    public var registers: Int

    enum CodingKeys: String, CodingKey {
        case key, label, instances, registers
        case defaultInstances = "default"
    }

    public init(key: String, label: String, instances: [String], defaultInstances: [String], registers: Int) {
        self.key = key
        self.label = label
        self.instances = instances
        self.defaultInstances = defaultInstances
        self.registers = registers
    }
}

public struct ModelsResponse: Sendable, Codable, Hashable {
    public var models: [ModelSummary]
    public init(models: [ModelSummary]) { self.models = models }
}

/// `alerts`: optionally of one heat pump, optionally only active ones.
public struct AlertsRequest: Sendable, Codable, Hashable {
    public var id: String?
    public var active: Bool?
    public init(id: String? = nil, active: Bool? = nil) {
        self.id = id
        self.active = active
    }
}

public struct AlertRecord: Sendable, Codable, Hashable {
    public var rule: String
    public var heatpumpID: String
    public var severity: String
    public var raisedAt: Double
    public var resolvedAt: Double?
    public var value: Double?
    public var message: String

    public init(rule: String, heatpumpID: String, severity: String, raisedAt: Double, resolvedAt: Double? = nil, value: Double? = nil, message: String) {
        self.rule = rule
        self.heatpumpID = heatpumpID
        self.severity = severity
        self.raisedAt = raisedAt
        self.resolvedAt = resolvedAt
        self.value = value
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case rule, severity, value, message
        case heatpumpID = "heatpump_id", raisedAt = "raised_at", resolvedAt = "resolved_at"
    }
}

public struct AlertsResponse: Sendable, Codable, Hashable {
    public var alerts: [AlertRecord]
    public init(alerts: [AlertRecord]) { self.alerts = alerts }
}

/// `events`: since a Unix time (0: all kept).
public struct EventsRequest: Sendable, Codable, Hashable {
    public var id: String?
    public var since: Double?
    public init(id: String? = nil, since: Double? = nil) {
        self.id = id
        self.since = since
    }
}

public struct EventRecord: Sendable, Codable, Hashable {
    public var at: Double
    public var heatpumpID: String?
    public var kind: String
    public var message: String

    public init(at: Double, heatpumpID: String? = nil, kind: String, message: String) {
        self.at = at
        self.heatpumpID = heatpumpID
        self.kind = kind
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case at, kind, message
        case heatpumpID = "heatpump_id"
    }
}

public struct EventsResponse: Sendable, Codable, Hashable {
    public var events: [EventRecord]
    public init(events: [EventRecord]) { self.events = events }
}

/// `history`: stored readings of one register since a Unix time.
public struct HistoryRequest: Sendable, Codable, Hashable {
    public var id: String
    public var register: String
    public var since: Double?
    public init(id: String, register: String, since: Double? = nil) {
        self.id = id
        self.register = register
        self.since = since
    }
}

/// Points as `[unix time, value]` pairs.
public struct HistoryResponse: Sendable, Codable, Hashable {
    public var points: [[Double]]
    public init(points: [[Double]]) { self.points = points }
}
