/// Defrost periods from a stream of observations: from the controller's defrost bit or mode, or,
/// where it has none, from ΔT reversal (supply below return while the compressor runs) lasting at
/// least `minDuration`. Counts the time in defrost and the heat taken back from the water.
///
/// Like `CompressorCycles`, nothing accrues across a gap longer than `maxGap` between observations.
public struct DefrostPeriods: Sendable {
    /// Seconds a reversal must last to be a defrost (0 for a defrost register: believed at once).
    public let minDuration: Double
    public let maxGap: Double
    /// True while a (confirmed) defrost runs.
    public private(set) var active = false
    public private(set) var seconds = 0.0
    public private(set) var energyKWh = 0.0
    private var last: (at: Double, defrosting: Bool, heatBackKW: Double)?
    private var since: Double?
    /// Time and heat of a reversal not yet confirmed: credited once it lasts `minDuration`, else dropped.
    private var pendingSeconds = 0.0
    private var pendingKWh = 0.0

    public init(minDuration: Double = 0, maxGap: Double = 300) {
        self.minDuration = max(0, minDuration)
        self.maxGap = maxGap
    }

    /// Records one observation (times in seconds, non-decreasing; an older one is ignored):
    /// `defrosting` as the register says or as the reversal looks, `heatBackKW` the heat flowing
    /// back from the water now (0 when unknown or none). Returns whether a defrost runs.
    @discardableResult
    public mutating func observe(at time: Double, defrosting: Bool, heatBackKW: Double = 0) -> Bool {
        guard time.isFinite else { return active }
        let heat = heatBackKW.isFinite ? max(0, heatBackKW) : 0
        if let previous = last {
            guard time >= previous.at else { return active }
            if time - previous.at > maxGap {
                since = nil
                active = false
                pendingSeconds = 0
                pendingKWh = 0
            } else if previous.defrosting {
                let dt = time - previous.at
                // The heat of the interval at the rate seen at its start (the poll that found the defrost).
                let kWh = previous.heatBackKW * dt / 3600
                if active {
                    seconds += dt
                    energyKWh += kWh
                } else {
                    pendingSeconds += dt
                    pendingKWh += kWh
                }
            }
        }
        last = (time, defrosting, heat)
        guard defrosting else {
            since = nil
            active = false
            pendingSeconds = 0
            pendingKWh = 0
            return false
        }
        if since == nil { since = time }
        if !active, let began = since, time - began >= minDuration {
            active = true
            seconds += pendingSeconds
            energyKWh += pendingKWh
            pendingSeconds = 0
            pendingKWh = 0
        }
        return active
    }

    /// Continues from a saved state (a daemon restart).
    public init(minDuration: Double = 0, maxGap: Double = 300, restoring saved: DerivedState.Defrost) {
        self.init(minDuration: minDuration, maxGap: maxGap)
        active = saved.active
        seconds = saved.seconds
        energyKWh = saved.energyKWh
        if let at = saved.lastAt, let defrosting = saved.lastDefrosting { last = (at, defrosting, saved.lastHeatBackKW ?? 0) }
        since = saved.since
        pendingSeconds = saved.pendingSeconds
        pendingKWh = saved.pendingKWh
    }

    /// The state to save.
    public var saved: DerivedState.Defrost {
        DerivedState.Defrost(active: active, seconds: seconds, energyKWh: energyKWh, lastAt: last?.at, lastDefrosting: last?.defrosting,
                             lastHeatBackKW: last?.heatBackKW, since: since, pendingSeconds: pendingSeconds, pendingKWh: pendingKWh)
    }
}
