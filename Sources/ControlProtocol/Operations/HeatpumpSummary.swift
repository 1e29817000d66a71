/// One heat pump as `list`/`status` (socket) and `GET /api/heatpumps` (HTTP) report it.
/// The `status` fields are present only in the detailed form.
public struct HeatpumpSummary: Sendable, Codable, Hashable {
    public var id: String
    public var name: String
    public var location: String
    public var model: String
    public var manufacturer: String
    public var enabled: Bool
    /// `heatpumps.yml` or `runtime` (added over the socket or HTTP).
    public var source: String
    public var state: String
    public var up: Bool
    public var lastSuccess: Double?
    public var lastError: String?
    public var errors: Int?
    // Detailed status only.
    public var link: String?
    public var unitID: Int?
    public var pollInterval: Double?
    public var polls: Int?
    public var late: Int?
    public var lag: Double?
    public var overruns: Int?
    public var backoff: Double?
    public var restarts: Int?
    public var requestsPerPoll: Int?
    public var pollDuration: Double?
    public var quarantined: [String]?

    public init(id: String, name: String, location: String, model: String, manufacturer: String, enabled: Bool,
                source: String, state: String, up: Bool) {
        self.id = id
        self.name = name
        self.location = location
        self.model = model
        self.manufacturer = manufacturer
        self.enabled = enabled
        self.source = source
        self.state = state
        self.up = up
    }

    enum CodingKeys: String, CodingKey {
        case id, name, location, model, manufacturer, enabled, source, state, up, link, polls, errors, late, lag, overruns, backoff,
             restarts, quarantined
        case lastSuccess = "last_success", lastError = "last_error", unitID = "unit_id", pollInterval = "poll_interval"
        case requestsPerPoll = "requests_per_poll", pollDuration = "poll_duration"
    }
}

/// `list` / `status` / `GET /api/heatpumps`.
public struct HeatpumpsResponse: Sendable, Codable, Hashable {
    public var heatpumps: [HeatpumpSummary]
    public init(heatpumps: [HeatpumpSummary]) { self.heatpumps = heatpumps }
}
