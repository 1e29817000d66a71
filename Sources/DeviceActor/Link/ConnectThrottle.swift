import Synchronization

/// Fleet-wide pacing of reconnects: a token bucket shared by every link. When a building's power
/// returns, its devices reconnect at `rate` per second (plus jitter) instead of all at once.
public final class ConnectThrottle: Sendable {
    private struct State {
        var tokens: Double
        var refilled: ContinuousClock.Instant
        /// Reservations beyond the bucket are queued behind this instant.
        var nextFree: ContinuousClock.Instant
    }

    public let rate: Double
    public let burst: Double
    private let state: Mutex<State>

    /// - Parameters: rate: connects per second; burst: connects allowed at once.
    public init(rate: Double, burst: Double) {
        self.rate = max(rate, 0.001)
        self.burst = max(burst, 1)
        let now = ContinuousClock.now
        state = Mutex(State(tokens: max(burst, 1), refilled: now, nextFree: now))
    }

    /// Takes one connect slot; returns how long to wait before connecting (zero when a token was free).
    /// `jitter` in [0, 1) spreads queued connects within one token interval.
    public func reserve(now: ContinuousClock.Instant = .now, jitter: Double = Double.random(in: 0..<1)) -> Duration {
        state.withLock { s in
            let elapsed = max(0, (now - s.refilled) / .seconds(1))
            s.tokens = min(burst, s.tokens + elapsed * rate)
            s.refilled = now
            if s.tokens >= 1 {
                s.tokens -= 1
                return .zero
            }
            let interval = Duration.seconds(1 / rate)
            let slot = max(s.nextFree, now) + interval
            s.nextFree = slot
            return (slot - now) + interval * min(max(jitter, 0), 1)
        }
    }
}
