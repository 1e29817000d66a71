import Foundation
import HPCore

/// The online anomaly detector of one device (`derived: anomaly:` of its model): scores each poll
/// 0–1 and says, when it alerts, which registers are how far from their usual range.
///
/// Pure and clock-injected (each poll's timestamp); its owner (the device's actor) calls `observe`
/// once per poll. Contributions, each 0–1 with 0.5 at the limit of "usual":
/// - out of range: |x − c| / (1.25 s) of the register against its band's `RobustBaseline`, ÷ 2 `zLimit`;
/// - stuck: polls repeated ÷ 2 × the `StuckTracker` limit;
/// - compressor cycling (`compressor:`): ≥ 0.6 while `CompressorCycles` says short-cycling;
/// - endless defrost (`defrost:`): defrost duration ÷ 2 `maxDefrostSeconds`.
/// The score is the largest. An alert is raised once the score stayed ≥ `threshold` for
/// `raisePolls` polls after `warmupSeconds`, and resolves once it stayed below `clearShare` ×
/// `threshold` as long.
public struct AnomalyDetector: Sendable {
    public struct Settings: Sendable, Hashable {
        public var threshold = 0.5
        public var clearShare = 0.7
        public var warmupSeconds = 86_400.0
        public var raisePolls = 3
        /// Deviation (in σ-like units) at which a register contributes 0.5.
        public var zLimit = 6.0
        /// Time constant τ of the baseline (s).
        public var timeConstant = 2 * 86_400.0
        /// Values a band needs before it scores (1 h at 10-s polls: it has seen a compressor cycle).
        public var minBandSamples = 360
        public var stuckPolls = 30
        public var maxDefrostSeconds = 1_200.0
        /// How often the owner persists the state (s).
        public var saveInterval = 600.0
        public init() {}
    }

    public let settings: Settings
    public let names: [String]
    public let units: [String]
    /// Outdoor bands (true) or time of day (false).
    public let byOutdoor: Bool
    let slotOfRegister: [Int16]
    let outdoorIndex: Int
    let compressorIndex: Int
    let compressor: CompressorInputs?
    let defrostIndex: Int
    let defrost: DefrostInputs?
    let utcOffset: Int

    var baseline: RobustBaseline
    var stuck: StuckTracker
    var cycles: CompressorCycles?
    var firstSeen: Double?
    var lastTime: Double?
    var defrostSince: Double?
    var above = 0
    var below = 0
    public private(set) var alerting = false
    public private(set) var message = ""
    public private(set) var lastSaved: Double?
    /// Per-poll scratch: this poll's value per watched register (NaN: absent), reused.
    private var values: [Double]

    /// nil when the model declares no `anomaly:`.
    public init?(model: ModelDefinition, settings override: Settings? = nil, timeZone: TimeZone = .current) {
        guard let inputs = model.derived.anomaly else { return nil }
        var settings = override ?? Settings()
        if override == nil {
            settings.threshold = inputs.threshold
            settings.warmupSeconds = inputs.warmupSeconds
            settings.stuckPolls = inputs.stuckPolls
            settings.maxDefrostSeconds = inputs.maxDefrostSeconds
        }
        self.settings = settings
        var indexByName: [String: Int] = [:]
        for (i, r) in model.registers.enumerated() where indexByName[r.name] == nil { indexByName[r.name] = i }
        let watched = Array(inputs.registers.filter { indexByName[$0] != nil }.prefix(AnomalyInputs.maxRegisters))
        names = watched
        units = watched.map { name in indexByName[name].map { AnomalyContribution.displayUnit(model.registers[$0].unit) } ?? "" }
        var slots = [Int16](repeating: -1, count: model.registers.count)
        for (slot, name) in watched.enumerated() { if let i = indexByName[name] { slots[i] = Int16(slot) } }
        slotOfRegister = slots
        let outdoor = inputs.outdoorTemp.flatMap { indexByName[$0] } ?? -1
        outdoorIndex = outdoor
        byOutdoor = outdoor >= 0
        let compressor = model.derived.compressor
        self.compressor = compressor
        compressorIndex = compressor.flatMap { indexByName[$0.register.register] } ?? -1
        defrost = model.derived.defrost
        defrostIndex = model.derived.defrost.flatMap { indexByName[$0.register.register] } ?? -1
        if let compressor {
            var c = CompressorCycles.Settings()
            c.maxStartsPerHour = compressor.maxStartsPerHour
            c.minMedianRunSeconds = compressor.minMedianRunSeconds
            cycles = CompressorCycles(settings: c)
        }
        utcOffset = timeZone.secondsFromGMT()
        baseline = RobustBaseline(registers: watched.count, minSamples: settings.minBandSamples)
        stuck = StuckTracker(registers: watched.count, minPolls: settings.stuckPolls)
        values = Array(repeating: .nan, count: watched.count)
    }

    /// Scores one poll (wall-clock seconds `time`, non-decreasing) and learns from it.
    public mutating func observe(_ samples: [Sample], at time: Double) -> AnomalyVerdict {
        for i in values.indices { values[i] = .nan }
        var outdoor = Double.nan, running: Bool?, defrosting: Bool?
        for sample in samples {
            let r = sample.register
            guard r >= 0, r < slotOfRegister.count else { continue }
            let slot = Int(slotOfRegister[r])
            guard slot >= 0 || r == outdoorIndex || r == compressorIndex || r == defrostIndex else { continue }
            let v = sample.value.doubleValue
            guard v.isFinite else { continue }
            if slot >= 0 { values[slot] = v }
            if r == outdoorIndex { outdoor = v }
            if r == compressorIndex, let compressor {
                let x = v * compressor.register.factor
                running = compressor.source == .running ? x != 0 : x > compressor.minFrequency
            }
            if r == defrostIndex, let defrost {
                defrosting = defrost.values.isEmpty ? v != 0 : defrost.values.contains(v)
            }
        }
        if firstSeen == nil { firstSeen = time }
        let dt = lastTime.map { max(0, time - $0) } ?? 0
        lastTime = time
        let band: Int? = byOutdoor ? (outdoor.isNaN ? nil : AnomalyBucket.outdoor(outdoor)) : AnomalyBucket.timeOfDay(time, utcOffset: utcOffset)
        let weight = dt / settings.timeConstant

        var score = 0.0
        let learning = !warmedUp(at: time)
        for slot in values.indices {
            let x = values[slot]
            guard !x.isNaN else { continue }
            stuck.observe(slot, x, learning: learning)
            score = max(score, stuck.score(slot))
            if let band {
                if let z = baseline.deviation(slot, band, x) { score = max(score, min(1, z / (2 * settings.zLimit))) }
                baseline.learn(slot, band, x, minimumWeight: weight)
            }
        }
        if let running, cycles != nil {
            cycles?.observe(at: time, running: running)
        }
        if cycles?.shortCycling == true { score = max(score, cyclingScore(at: time)) }
        if let defrosting {
            if defrosting {
                let since = defrostSince ?? time
                defrostSince = since
                score = max(score, min(1, (time - since) / (2 * settings.maxDefrostSeconds)))
            } else {
                defrostSince = nil
            }
        }
        updateAlert(score: score, at: time, band: band)
        return AnomalyVerdict(score: score, alerting: alerting, message: message)
    }

    /// True once `warmupSeconds` have passed since the first poll.
    public func warmedUp(at time: Double) -> Bool {
        guard let firstSeen else { return false }
        return time - firstSeen >= settings.warmupSeconds
    }

    private func cyclingScore(at time: Double) -> Double {
        guard let cycles else { return 0 }
        let perHour = Double(cycles.startsPerHour(at: time))
        return max(0.6, min(1, perHour / (2 * cycles.settings.maxStartsPerHour)))
    }

    private mutating func updateAlert(score: Double, at time: Double, band: Int?) {
        if alerting {
            if score < settings.threshold * settings.clearShare {
                below += 1
                if below >= settings.raisePolls {
                    alerting = false
                    message = ""
                    below = 0
                }
            } else {
                below = 0
            }
        } else if score >= settings.threshold, warmedUp(at: time) {
            above += 1
            if above >= settings.raisePolls {
                alerting = true
                above = 0
                message = contributions(at: time, band: band).prefix(3).map(\.text).joined(separator: "; ")
            }
        } else {
            above = 0
        }
    }

    /// What contributes to the current score, largest first (those at or above the clear level,
    /// or the single largest).
    public func contributions(at time: Double, band: Int?) -> [AnomalyContribution] {
        var all: [AnomalyContribution] = []
        for slot in values.indices {
            let x = values[slot]
            guard !x.isNaN else { continue }
            let s = stuck.score(slot)
            if s > 0 {
                all.append(AnomalyContribution(register: names[slot], unit: units[slot], score: s,
                                               kind: .stuck(value: x, polls: stuck.repeats(slot), share: stuck.share(slot))))
            }
            if let band, let z = baseline.deviation(slot, band, x) {
                all.append(AnomalyContribution(register: names[slot], unit: units[slot], score: min(1, z / (2 * settings.zLimit)),
                                               kind: .outOfRange(value: x, usual: baseline.usualRange(slot, band),
                                                                 band: AnomalyBucket.label(band, outdoor: byOutdoor))))
            }
        }
        if let cycles, cycles.shortCycling {
            all.append(AnomalyContribution(register: "compressor", unit: "", score: cyclingScore(at: time),
                                           kind: .cycling(startsPerHour: cycles.startsPerHour(at: time), limit: cycles.settings.maxStartsPerHour,
                                                          medianRunSeconds: cycles.medianRunSeconds)))
        }
        if let since = defrostSince {
            let d = time - since
            all.append(AnomalyContribution(register: "defrost", unit: "", score: min(1, d / (2 * settings.maxDefrostSeconds)),
                                           kind: .defrost(seconds: d, limit: settings.maxDefrostSeconds)))
        }
        all.sort { $0.score > $1.score }
        var named: Set<String> = []
        all = all.filter { named.insert($0.register).inserted }  // a register's strongest reason only
        let floor = settings.threshold * settings.clearShare
        let strong = all.filter { $0.score >= floor }
        return strong.isEmpty ? Array(all.prefix(1)) : strong
    }

    /// Whether the owner should persist the state now (every `saveInterval`).
    public func saveDue(at time: Double) -> Bool {
        guard let lastSaved else { return firstSeen.map { time - $0 >= settings.saveInterval } ?? false }
        return time - lastSaved >= settings.saveInterval
    }

    public mutating func markSaved(at time: Double) { lastSaved = time }
}
