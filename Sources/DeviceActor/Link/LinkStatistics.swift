/// Counters of one link, exported as `hpmanager_link_*_total`.
public struct LinkStatistics: Sendable, Hashable {
    /// Connection attempts (including reconnects).
    public var connects = 0
    /// Requests that got no complete response before their deadline.
    public var timeouts = 0
    /// Responses whose transaction id matched no waiting request (late or duplicate answers); discarded.
    public var staleResponses = 0
    /// Responses that broke the protocol: wrong unit, wrong protocol id or length, garbage.
    public var protocolErrors = 0

    public init() {}
}
