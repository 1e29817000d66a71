/// What a device's derived metrics remember between polls, as saved across daemon restarts:
/// compressor counters and cycle history, the SCOP period sums and the last counter readings, the
/// defrost and comfort integrals.
public struct DerivedState: Sendable, Hashable, Codable {
    /// Bumped when the layout changes: a state of another version is not restored.
    public static let currentVersion = 1

    public struct Cycles: Sendable, Hashable, Codable {
        public var starts: Int
        public var runSeconds: Double
        public var shortCycling: Bool
        public var lastAt: Double?
        public var lastRunning: Bool?
        public var startedAt: Double?
        public var recentRuns: [Double]
        public var startTimes: [Double]
        /// Observed running/stopped time of the last hour (duty ratio).
        public var segments: [Segment]?
    }

    public struct Defrost: Sendable, Hashable, Codable {
        public var active: Bool
        public var seconds: Double
        public var energyKWh: Double
        public var lastAt: Double?
        public var lastDefrosting: Bool?
        public var lastHeatBackKW: Double?
        public var since: Double?
        public var pendingSeconds: Double
        public var pendingKWh: Double
    }

    /// The comfort integrals (`ComfortTracker`). Absent in rows saved before comfort metrics existed.
    public struct Comfort: Sendable, Hashable, Codable {
        public var deficitKelvinSeconds: Double
        public var dhwBelowSeconds: Double
        public var lastAt: Double?
        public var lastDeficit: Double?
        public var lastDHWBelow: Bool?
    }

    /// A stretch of observed time in one compressor state.
    public struct Segment: Sendable, Hashable, Codable {
        public var from: Double
        public var to: Double
        public var running: Bool

        public init(from: Double, to: Double, running: Bool) {
            self.from = from
            self.to = to
            self.running = running
        }
    }

    public struct PeriodSums: Sendable, Hashable, Codable {
        /// `heating` or `dhw` for a per-use SCOP; nil for the total.
        public var use: String?
        public var period: String
        public var key: Int
        public var heat: Double
        public var electrical: Double

        public init(use: String? = nil, period: String, key: Int, heat: Double, electrical: Double) {
            self.use = use
            self.period = period
            self.key = key
            self.heat = heat
            self.electrical = electrical
        }
    }

    public struct Counters: Sendable, Hashable, Codable {
        public var at: Double
        public var values: [String: Double]
    }

    public var version = Self.currentVersion
    public var cycles: Cycles?
    public var periods: [PeriodSums] = []
    public var counters: Counters?
    public var defrost: Defrost?
    public var comfort: Comfort?

    /// Numbers a corrupt or hand-edited row could hold that no run of the formulas produces.
    public var isPlausible: Bool {
        func finite(_ values: [Double?]) -> Bool { values.allSatisfy { $0.map(\.isFinite) ?? true } }
        guard version == Self.currentVersion else { return false }
        if let c = cycles {
            guard c.starts >= 0, c.runSeconds >= 0, finite([c.runSeconds, c.lastAt, c.startedAt] + c.recentRuns + c.startTimes),
                  c.recentRuns.allSatisfy({ $0 >= 0 }), (c.lastAt == nil) == (c.lastRunning == nil),
                  (c.segments ?? []).allSatisfy({ $0.from.isFinite && $0.to.isFinite && $0.from <= $0.to }) else { return false }
        }
        for p in periods {
            guard ["day", "month", "season"].contains(p.period), p.use.map({ ["heating", "dhw"].contains($0) }) ?? true, finite([p.heat, p.electrical]), p.heat >= 0, p.electrical >= 0 else { return false }
        }
        if let d = defrost {
            guard finite([d.seconds, d.energyKWh, d.lastAt, d.lastHeatBackKW, d.since, d.pendingSeconds, d.pendingKWh]),
                  d.seconds >= 0, d.energyKWh >= 0, d.pendingSeconds >= 0, d.pendingKWh >= 0, (d.lastAt == nil) == (d.lastDefrosting == nil) else { return false }
        }
        if let c = comfort {
            guard finite([c.deficitKelvinSeconds, c.dhwBelowSeconds, c.lastAt, c.lastDeficit]), c.deficitKelvinSeconds >= 0, c.dhwBelowSeconds >= 0,
                  (c.lastDeficit ?? 0) >= 0 else { return false }
        }
        if let counters {
            guard finite([counters.at] + counters.values.values.map { $0 }) else { return false }
        }
        return true
    }
}
