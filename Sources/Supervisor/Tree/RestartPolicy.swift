/// OTP-style restart policy of a child.
public enum RestartType: String, Sendable {
    /// Always restarted, also after a normal return.
    case permanent
    /// Restarted only after an error.
    case transient
    /// Never restarted.
    case temporary
}

/// Restart intensity: more than `maxRestarts` failures within `window` marks the child failed.
public struct RestartIntensity: Sendable, Hashable {
    public var maxRestarts: Int
    public var window: Duration
    public var backoffInitial: Duration
    public var backoffMax: Duration
    public var failedCooldown: Duration

    public init(maxRestarts: Int, window: Duration, backoffInitial: Duration, backoffMax: Duration, failedCooldown: Duration) {
        self.maxRestarts = maxRestarts
        self.window = window
        self.backoffInitial = backoffInitial
        self.backoffMax = backoffMax
        self.failedCooldown = failedCooldown
    }
}

/// What to do after a child stopped unexpectedly.
public enum RestartDecision: Sendable, Hashable {
    case restart(after: Duration)
    case fail(cooldown: Duration)
}

/// The restart decision as a pure function of the failure history and now.
public enum RestartPolicy {
    /// - Parameters:
    ///   - failures: earlier failure times of this child (any order; old ones are ignored).
    ///   - now: the time of the failure being decided; it counts as one more failure.
    /// - Returns: the decision and the history to keep (failures inside the window, including now).
    public static func decide<I: InstantProtocol>(failures: [I], now: I, intensity: RestartIntensity) -> (RestartDecision, [I])
    where I.Duration == Duration {
        let recent = failures.filter { now.duration(to: $0) > .zero - intensity.window && $0 <= now } + [now]
        if recent.count > intensity.maxRestarts {
            return (.fail(cooldown: intensity.failedCooldown), [])
        }
        let exponent = min(recent.count - 1, 30)
        let delay = min(intensity.backoffInitial * Double(1 << exponent), intensity.backoffMax)
        return (.restart(after: delay), recent)
    }
}
