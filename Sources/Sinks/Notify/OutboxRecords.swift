/// A row of the notification outbox.
public struct OutboxMessage: Sendable, Hashable {
    public var id: Int64
    public var createdAt: Double
    public var channel: String
    public var route: String
    public var groupKey: String
    public var status: String
    public var severity: String
    public var title: String
    public var body: String
    public var state: String
    public var attempts: Int
    public var nextAttemptAt: Double
    public var lastError: String
    public var doneAt: Double?
}

/// One delivery attempt of an outbox message.
public struct OutboxAttempt: Sendable, Hashable {
    public var notificationID: Int64
    public var at: Double
    public var channel: String
    public var ok: Bool
    public var httpStatus: Int?
    public var error: String
    public var duration: Double
}

/// What one delivery attempt came to.
public struct DeliveryOutcome: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case delivered
        /// Try again after the channel's backoff (at least `retryAfter` if the receiver said so).
        case retry
        /// The receiver refused the message (a 4xx other than 408/429): sending it again cannot help.
        case refused
    }

    public var kind: Kind
    public var httpStatus: Int?
    public var error: String
    public var retryAfter: Double?
    public var duration: Double

    public init(kind: Kind, httpStatus: Int? = nil, error: String = "", retryAfter: Double? = nil, duration: Double = 0) {
        self.kind = kind
        self.httpStatus = httpStatus
        self.error = error
        self.retryAfter = retryAfter
        self.duration = duration
    }
}
