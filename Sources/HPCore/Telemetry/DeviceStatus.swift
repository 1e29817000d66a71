/// A snapshot of one device's health, published by its actor after every poll.
public struct DeviceStatus: Sendable, Hashable {
    public var state: DeviceState
    public var up: Bool
    /// Wall-clock seconds since 1970 of the last successful poll.
    public var lastSuccess: Double?
    public var lastError: String?
    public var pollErrorsTotal: Int
    /// Polls attempted (successful or not).
    public var pollsTotal: Int = 0
    /// Polls that started more than 10 % of the interval after they were due.
    public var pollsLateTotal: Int = 0
    /// How late the last poll started, seconds.
    public var pollLag: Double = 0
    public var pollOverrunsTotal: Int
    public var restartsTotal: Int
    /// Duration of the last poll, seconds.
    public var pollDuration: Double
    /// Modbus requests the last poll needed.
    public var requestsPerPoll: Int
    public var quarantinedRegisters: [String]
    /// Current reconnect delay while in backoff, seconds.
    public var backoff: Double?
    public var link: String
    /// Seconds between polls (for staleness checks).
    public var pollInterval: Double

    public init(state: DeviceState = .connecting, up: Bool = false, lastSuccess: Double? = nil, lastError: String? = nil,
                pollErrorsTotal: Int = 0, pollOverrunsTotal: Int = 0, restartsTotal: Int = 0, pollDuration: Double = 0,
                requestsPerPoll: Int = 0, quarantinedRegisters: [String] = [], backoff: Double? = nil, link: String = "", pollInterval: Double = 0) {
        self.state = state
        self.up = up
        self.lastSuccess = lastSuccess
        self.lastError = lastError
        self.pollErrorsTotal = pollErrorsTotal
        self.pollOverrunsTotal = pollOverrunsTotal
        self.restartsTotal = restartsTotal
        self.pollDuration = pollDuration
        self.requestsPerPoll = requestsPerPoll
        self.quarantinedRegisters = quarantinedRegisters
        self.backoff = backoff
        self.link = link
        self.pollInterval = pollInterval
    }
}
