/// `detect`: which built-in model answers at `host:port` unit `unit`, and which of its circuits,
/// zones or climate systems are fitted.
public struct DetectRequest: Sendable, Codable, Hashable {
    public var host: String
    /// 1-65535, default 502 (a JSON number; checked by the operation).
    public var port: Double?
    /// 0-255, default 1.
    public var unit: Double?
    /// Seconds per Modbus answer, 0.05-30, default 1.
    public var timeout: Double?
    public init(host: String, port: Double? = nil, unit: Double? = nil, timeout: Double? = nil) {
        self.host = host
        self.port = port
        self.unit = unit
        self.timeout = timeout
    }
}

public struct DetectCandidate: Sendable, Codable, Hashable {
    public var model: String
    public var confidence: Double
    public var viable: Bool
    public var reason: String
    public init(model: String, confidence: Double, viable: Bool, reason: String) {
        self.model = model
        self.confidence = confidence
        self.viable = viable
        self.reason = reason
    }
}

public struct DetectProposal: Sendable, Codable, Hashable {
    public var model: String
    public var manufacturer: String
    public var confidence: Double
    public var reason: String
    /// The device's `config:` (template key → fitted instances).
    public var config: [String: [String]]
    public var notes: [String]?
    public init(model: String, manufacturer: String, confidence: Double, reason: String, config: [String: [String]], notes: [String]? = nil) {
        self.model = model
        self.manufacturer = manufacturer
        self.confidence = confidence
        self.reason = reason
        self.config = config
        self.notes = notes
    }
}

public struct DetectResponse: Sendable, Codable, Hashable {
    public var endpoint: String
    public var unit: Int
    public var candidates: [DetectCandidate]
    /// Absent when no model fits (`message` says why).
    public var proposal: DetectProposal?
    public var message: String
    public var requests: Int
    public init(endpoint: String, unit: Int, candidates: [DetectCandidate], proposal: DetectProposal?, message: String, requests: Int) {
        self.endpoint = endpoint
        self.unit = unit
        self.candidates = candidates
        self.proposal = proposal
        self.message = message
        self.requests = requests
    }
}
