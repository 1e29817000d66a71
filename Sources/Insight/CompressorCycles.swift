/// Compressor starts, run time and short-cycling from a stream of (time, running) observations.
///
/// A start is an off→on transition; a cycle's run time is on→off. Gaps longer than `maxGap`
/// between observations break the chain: nothing is counted across a gap (a restart of the daemon
/// or a dark controller must not invent a start or hours of running).
public struct CompressorCycles: Sendable {
    public struct Settings: Sendable, Hashable {
        /// Starts per hour above which the pump is short-cycling.
        public var maxStartsPerHour: Double = 6
        /// Median run time (s) of recent cycles below which the pump is short-cycling.
        public var minMedianRunSeconds: Double = 10 * 60
        /// Hysteresis: clear only when starts/h fall below this share of the limit and the median
        /// run time rises above 1/share of its limit.
        public var clearShare: Double = 0.75
        /// Cycles kept for the median.
        public var recentCycles = 6
        /// Observations further apart than this are a gap.
        public var maxGap: Double = 300
        public init() {}
    }

    public let settings: Settings
    public private(set) var starts = 0
    public private(set) var runSeconds = 0.0
    public private(set) var shortCycling = false
    private var last: (at: Double, running: Bool)?
    private var startedAt: Double?
    private var recentRuns: [Double] = []
    /// Start times within the last hour.
    private var startTimes: [Double] = []
    /// Observed time of the last hour as runs of one state (merged while the state holds), for the duty ratio.
    private var segments: [DerivedState.Segment] = []

    /// The window of `startsPerHour` and `dutyRatio`.
    public static let window = 3600.0

    public init(settings: Settings = Settings()) {
        self.settings = settings
    }

    /// Continues from a saved state (a daemon restart): counters, cycle history and the last
    /// observation, so a restart shorter than `maxGap` neither loses nor invents a start.
    public init(settings: Settings = Settings(), restoring saved: DerivedState.Cycles) {
        self.settings = settings
        starts = saved.starts
        runSeconds = saved.runSeconds
        shortCycling = saved.shortCycling
        if let at = saved.lastAt, let running = saved.lastRunning { last = (at, running) }
        startedAt = saved.startedAt
        recentRuns = Array(saved.recentRuns.suffix(settings.recentCycles))
        startTimes = saved.startTimes
        segments = saved.segments ?? []
    }

    /// The state to save.
    public var saved: DerivedState.Cycles {
        DerivedState.Cycles(starts: starts, runSeconds: runSeconds, shortCycling: shortCycling, lastAt: last?.at, lastRunning: last?.running,
                            startedAt: startedAt, recentRuns: recentRuns, startTimes: startTimes, segments: segments)
    }

    /// Mean run time of the recent completed cycles (the last `recentCycles`), or nil before the first.
    public var meanRunSeconds: Double? {
        recentRuns.isEmpty ? nil : recentRuns.reduce(0, +) / Double(recentRuns.count)
    }

    /// Share of the observed time in the hour before `now` that the compressor ran (0-1); nil before
    /// any time was observed. Gaps (no observations) count neither way.
    public func dutyRatio(at now: Double) -> Double? {
        var observed = 0.0, running = 0.0
        for s in segments {
            let length = max(0, min(s.to, now) - max(s.from, now - Self.window))
            observed += length
            if s.running { running += length }
        }
        return observed > 0 ? running / observed : nil
    }

    /// Starts in the hour before `now`.
    public func startsPerHour(at now: Double) -> Int { startTimes.filter { $0 > now - 3600 }.count }

    /// Median run time of the recent completed cycles, or nil before the first.
    public var medianRunSeconds: Double? {
        guard !recentRuns.isEmpty else { return nil }
        let sorted = recentRuns.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Records one observation (times in seconds, non-decreasing; an older one is ignored).
    public mutating func observe(at time: Double, running: Bool) {
        guard time.isFinite else { return }
        // The first observation only sets the state: a compressor already running is not a start.
        guard let previous = last else {
            last = (time, running)
            return
        }
        guard time >= previous.at else { return }
        last = (time, running)
        let gap = time - previous.at > settings.maxGap
        if previous.running && !gap { runSeconds += time - previous.at }
        if !gap && time > previous.at {
            if let tail = segments.last, tail.running == previous.running, tail.to == previous.at {
                segments[segments.count - 1].to = time
            } else {
                segments.append(DerivedState.Segment(from: previous.at, to: time, running: previous.running))
            }
        }
        segments.removeAll { $0.to <= time - Self.window }
        if gap {
            startedAt = nil
        } else if running && !previous.running {
            starts += 1
            startedAt = time
            startTimes.append(time)
        } else if !running && previous.running, let began = startedAt {
            recentRuns.append(time - began)
            if recentRuns.count > settings.recentCycles { recentRuns.removeFirst(recentRuns.count - settings.recentCycles) }
            startedAt = nil
        }
        startTimes.removeAll { $0 <= time - 3600 }
        updateShortCycling(at: time)
    }

    private mutating func updateShortCycling(at now: Double) {
        let perHour = Double(startsPerHour(at: now))
        let median = medianRunSeconds
        if shortCycling {
            let calm = perHour < settings.maxStartsPerHour * settings.clearShare
                && (median.map { $0 >= settings.minMedianRunSeconds / settings.clearShare } ?? true)
            if calm { shortCycling = false }
        } else {
            let tooOften = perHour > settings.maxStartsPerHour
            let tooShort = recentRuns.count >= 3 && (median.map { $0 < settings.minMedianRunSeconds } ?? false)
            if tooOften || tooShort { shortCycling = true }
        }
    }
}
