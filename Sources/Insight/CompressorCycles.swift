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

    public init(settings: Settings = Settings()) {
        self.settings = settings
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
