/// `notifications`: the newest outbox messages (optionally of one channel) with every delivery attempt.
public struct NotificationsRequest: Sendable, Codable, Hashable {
    public var limit: Int?
    public var channel: String?
    public init(limit: Int? = nil, channel: String? = nil) {
        self.limit = limit
        self.channel = channel
    }
}

public struct NotificationAttemptRecord: Sendable, Codable, Hashable {
    public var at: Double
    public var ok: Bool
    /// HTTP status, or the SMTP reply code for email.
    public var status: Int?
    /// Why it failed; never holds a secret.
    public var error: String
    public var duration: Double

    public init(at: Double, ok: Bool, status: Int?, error: String, duration: Double) {
        self.at = at
        self.ok = ok
        self.status = status
        self.error = error
        self.duration = duration
    }
}

public struct NotificationRecord: Sendable, Codable, Hashable {
    public var id: Int64
    public var createdAt: Double
    public var channel: String
    public var route: String
    public var groupKey: String
    /// `firing` or `resolved`.
    public var status: String
    public var severity: String
    public var title: String
    /// `pending`, `sent`, `failed` (refused by the receiver) or `dropped` (outbox bounds).
    public var state: String
    public var nextAttemptAt: Double?
    public var lastError: String
    public var doneAt: Double?
    public var attempts: [NotificationAttemptRecord]

    public init(id: Int64, createdAt: Double, channel: String, route: String, groupKey: String, status: String, severity: String, title: String,
                state: String, nextAttemptAt: Double?, lastError: String, doneAt: Double?, attempts: [NotificationAttemptRecord]) {
        self.id = id
        self.createdAt = createdAt
        self.channel = channel
        self.route = route
        self.groupKey = groupKey
        self.status = status
        self.severity = severity
        self.title = title
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.doneAt = doneAt
        self.attempts = attempts
    }

    enum CodingKeys: String, CodingKey {
        case id, channel, route, status, severity, title, state, attempts
        case createdAt = "created_at", groupKey = "group_key", nextAttemptAt = "next_attempt_at", lastError = "last_error", doneAt = "done_at"
    }
}

public struct NotificationsResponse: Sendable, Codable, Hashable {
    public var notifications: [NotificationRecord]
    public init(notifications: [NotificationRecord]) { self.notifications = notifications }
}
