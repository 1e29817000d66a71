/// Exponential reconnect backoff with "equal jitter" and a cap: delay n is in
/// [d/2, d] with d = min(cap, initial × 2^(n-1)).
public struct Backoff: Sendable, Hashable {
    public let initial: Duration
    public let cap: Duration
    public private(set) var failures = 0

    public init(initial: Duration, cap: Duration) {
        self.initial = initial
        self.cap = max(cap, initial)
    }

    /// The delay before the next attempt; `jitter` in [0, 1) (injected for deterministic tests).
    public mutating func next(jitter: Double) -> Duration {
        failures += 1
        let exponent = min(failures - 1, 30)
        let grown = initial * Double(1 << exponent)
        let ceiling = min(grown, cap)
        return ceiling / 2 + (ceiling / 2) * min(max(jitter, 0), 1)
    }

    public mutating func reset() { failures = 0 }
}
