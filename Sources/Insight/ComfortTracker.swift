/// Integrates the comfort metrics over time: the supply's shortfall below the heating curve
/// (kelvin-seconds; ÷ 60 for the trade's kelvin-minutes) and the time the hot water spends below its setpoint (seconds).
///
/// Each interval between two observations counts at the state seen at its start (the poll that
/// found it), as `DefrostPeriods` does; nothing accrues across a gap longer than `maxGap` (a
/// daemon restart, a device that was down), since what happened then is unknown.
public struct ComfortTracker: Sendable {
    public let maxGap: Double
    public private(set) var deficitKelvinSeconds = 0.0
    public private(set) var dhwBelowSeconds = 0.0
    private var last: (at: Double, deficit: Double?, dhwBelow: Bool?)?

    public init(maxGap: Double = 300) {
        self.maxGap = maxGap
    }

    /// Records one poll at `time` (seconds, non-decreasing; an older one is ignored): the supply's
    /// shortfall in kelvin while heating (nil when not heating or not read) and whether the hot
    /// water is below its setpoint (nil when not read).
    public mutating func observe(at time: Double, deficit: Double?, dhwBelow: Bool?) {
        guard time.isFinite else { return }
        if let previous = last {
            guard time >= previous.at else { return }
            let dt = time - previous.at
            if dt <= maxGap {
                if let d = previous.deficit, d.isFinite { deficitKelvinSeconds += max(0, d) * dt }
                if previous.dhwBelow == true { dhwBelowSeconds += dt }
            }
        }
        last = (time, deficit, dhwBelow)
    }

    /// Continues from a saved state (a daemon restart).
    public init(maxGap: Double = 300, restoring saved: DerivedState.Comfort) {
        self.init(maxGap: maxGap)
        deficitKelvinSeconds = saved.deficitKelvinSeconds
        dhwBelowSeconds = saved.dhwBelowSeconds
        if let at = saved.lastAt { last = (at, saved.lastDeficit, saved.lastDHWBelow) }
    }

    /// The state to save.
    public var saved: DerivedState.Comfort {
        DerivedState.Comfort(deficitKelvinSeconds: deficitKelvinSeconds, dhwBelowSeconds: dhwBelowSeconds,
                             lastAt: last?.at, lastDeficit: last?.deficit, lastDHWBelow: last?.dhwBelow)
    }
}
