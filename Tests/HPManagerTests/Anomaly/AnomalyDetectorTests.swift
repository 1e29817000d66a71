import Foundation
import HPCore
import Insight
import Testing

/// The anomaly detector's parts against hand-computed values: the robust baseline, the stuck
/// tracker, bands, the alert's words, the score → alert state machine, and the stored state.
@Suite("Anomaly detector", .harnessThreads)
struct AnomalyDetectorTests {
    static func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-5) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

    @Test("baseline: running mean and mean absolute deviation while young, then residuals clipped at 3 s (hand-computed)")
    func baseline() {
        var b = RobustBaseline(registers: 1, bands: 1, minSamples: 3)
        b.learn(0, 0, 10, minimumWeight: 0)
        #expect(b.location(0, 0) == 10 && b.deviation(0, 0, 10) == nil, "one value: c = x; too young to score")
        b.learn(0, 0, 12, minimumWeight: 0)  // α = 1/2: c = 11, s = (|12 − 10| − 0)/2 = 1
        #expect(Self.close(b.location(0, 0), 11) && Self.close(b.scale(0, 0), 1))
        b.learn(0, 0, 14, minimumWeight: 0)  // α = 1/3, r = 3: c = 12, s = 1 + (3 − 1)/3
        #expect(Self.close(b.location(0, 0), 12) && Self.close(b.scale(0, 0), 5.0 / 3))
        // An outlier: r = 18 clipped at 3 s = 5; α = 1/4: c = 12 + 5/4, s = 5/3 + (5 − 5/3)/4 = 2.5.
        b.learn(0, 0, 30, minimumWeight: 0)
        #expect(Self.close(b.location(0, 0), 13.25) && Self.close(b.scale(0, 0), 2.5))
        // |12 − 13.25| / (1.25 × 2.5) = 0.4; usual range c ± 2 × 1.25 s.
        #expect(Self.close(b.deviation(0, 0, 12) ?? -1, 0.4))
        let usual = b.usualRange(0, 0)
        #expect(Self.close(usual.lowerBound, 7) && Self.close(usual.upperBound, 19.5))
        // Later, the weight is dt/τ when that exceeds 1/n.
        var w = RobustBaseline(registers: 1, bands: 1, minSamples: 1)
        w.learn(0, 0, 0, minimumWeight: 0.5)
        w.learn(0, 0, 0.04, minimumWeight: 0.75)  // α = max(1/2, 0.75); |r| below the floor 3 × 0.05
        #expect(Self.close(w.location(0, 0), 0.03) && Self.close(w.scale(0, 0), 0.05), "spread floored at 0.05")
    }

    @Test("stuck: repeats against how often the register changes; a rarely changing register is never stuck")
    func stuck() {
        var s = StuckTracker(registers: 2, minPolls: 3)
        for v in [1.0, 2, 3, 4] { s.observe(0, v) }  // 3 changes in 3 polls: share 1, limit max(3, 14/1)
        #expect(s.limit(0) == 14 && s.score(0) == 0)
        for _ in 0..<7 { s.observe(0, 4) }  // 7 repeats; share 3/10 → limit ⌈14/0.3⌉ = 47
        #expect(s.repeats(0) == 7 && Self.close(s.share(0), 0.3) && s.limit(0) == 47)
        #expect(Self.close(s.score(0), 7.0 / 94))
        s.observe(0, 5)
        #expect(s.repeats(0) == 0 && s.score(0) == 0, "a change ends the run")
        // Changes once in 30 polls (3 %): below the 5 % that makes a register "normally varying".
        for i in 0..<31 { s.observe(1, i == 15 ? 1 : 0) }
        for _ in 0..<200 { s.observe(1, 0) }
        #expect(s.limit(1) == nil && s.score(1) == 0)
    }

    @Test("bands: 5 K outdoor bands and 3-hour blocks of local time, as alerts name them",
          arguments: [(-40.0, 0), (-10.1, 0), (-10, 1), (2.5, 3), (4.99, 3), (5, 4), (19.9, 6), (20, 7), (45, 7)])
    func outdoorBands(_ celsius: Double, _ band: Int) {
        #expect(AnomalyBucket.outdoor(celsius) == band)
    }

    @Test("band labels and time-of-day blocks")
    func labels() {
        #expect(AnomalyBucket.label(3, outdoor: true) == "0–5 °C outdoor")
        #expect(AnomalyBucket.label(0, outdoor: true) == "below −10 °C outdoor")
        #expect(AnomalyBucket.timeOfDay(7 * 3600, utcOffset: 0) == 2 && AnomalyBucket.label(2, outdoor: false) == "06–09 h")
        #expect(AnomalyBucket.timeOfDay(23 * 3600, utcOffset: 3600) == 0, "23:00 UTC is 00:00 at UTC+1")
    }

    @Test("what an alert says")
    func words() {
        let range = AnomalyContribution(register: "flow_rate", unit: "l/min", score: 0.9,
                                        kind: .outOfRange(value: 8.1, usual: 14.0...15.2, band: "0–5 °C outdoor"))
        #expect(range.text == "flow_rate 8.1 l/min, usual 14.0–15.2 at 0–5 °C outdoor")
        let stuck = AnomalyContribution(register: "return_temp", unit: "°C", score: 0.5, kind: .stuck(value: 31.2, polls: 33, share: 0.97))
        #expect(stuck.text == "return_temp stuck at 31.2 °C for 33 polls (usually changes in 97 % of polls)")
        let defrost = AnomalyContribution(register: "defrost", unit: "", score: 0.5, kind: .defrost(seconds: 1260, limit: 1200))
        #expect(defrost.text == "defrost running for 21 min, usual ≤ 20 min")
        let cycling = AnomalyContribution(register: "compressor", unit: "", score: 0.6, kind: .cycling(startsPerHour: 8, limit: 6, medianRunSeconds: 240))
        #expect(cycling.text == "compressor 8 starts/h, usual ≤ 6.0, median run 4.0 min")
        #expect(AnomalyContribution.displayUnit("celsius") == "°C" && AnomalyContribution.displayUnit("kw") == "kw")
    }

    static func defrostModel() -> ModelDefinition {
        var m = ModelDefinition(name: "d", registers: [RegisterDefinition(name: "t", address: 0, unit: "celsius"), RegisterDefinition(name: "defrost", address: 1)])
        m.derived = DerivedInputs(defrost: DefrostInputs(register: DerivedInput(register: "defrost")), anomaly: AnomalyInputs(registers: ["t"]))
        return m
    }

    static func poll(t: Double, defrost: Bool) -> [Sample] {
        [Sample(register: 0, name: "t", value: .double(t)), Sample(register: 1, name: "defrost", value: .int(defrost ? 1 : 0))]
    }

    @Test("score → alert: defrost/(2 × limit); raised after 3 polls at ≥ 0.5 past warm-up, resolved after 3 below 0.35; not during warm-up")
    func alertStateMachine() throws {
        var settings = AnomalyDetector.Settings()
        settings.maxDefrostSeconds = 100
        settings.warmupSeconds = 0
        var d = try #require(AnomalyDetector(model: Self.defrostModel(), settings: settings, timeZone: TimeZone(identifier: "UTC") ?? .current))
        var raisedAt: Double?
        for t in stride(from: 0.0, through: 150, by: 10) {
            let v = d.observe(Self.poll(t: 20 + t / 100, defrost: true), at: t)
            #expect(Self.close(v.score, min(1, t / 200)), "at \(t)")
            if v.alerting, raisedAt == nil {
                raisedAt = t
                #expect(v.message == "defrost running for 2 min, usual ≤ 100 s")
            }
        }
        #expect(raisedAt == 120, "score 0.5 at 100 s, 0.55 at 110 s, 0.6 at 120 s: the third poll raises")
        var resolvedAt: Double?
        for t in stride(from: 160.0, through: 200, by: 10) {
            let v = d.observe(Self.poll(t: 20, defrost: false), at: t)
            if !v.alerting, resolvedAt == nil { resolvedAt = t }
        }
        #expect(resolvedAt == 180, "0 from 160 s: the third poll below 0.35 resolves")

        settings.warmupSeconds = 3600
        var fresh = try #require(AnomalyDetector(model: Self.defrostModel(), settings: settings))
        let verdicts = stride(from: 0.0, through: 600, by: 10).map { fresh.observe(Self.poll(t: 20, defrost: true), at: $0) }
        #expect(verdicts.last?.score == 1 && !verdicts.contains { $0.alerting }, "a fresh device raises nothing during its warm-up")
    }

    @Test("state round-trips byte for byte; truncated, foreign or damaged state is refused and leaves the detector as it was")
    func persistence() throws {
        var trace = HeatPumpTrace(seed: 7)
        var d = try #require(AnomalyDetector(model: HeatPumpTrace.model()))
        for i in 0..<500 { _ = d.observe(trace.poll(at: Double(i) * 10), at: Double(i) * 10) }
        let bytes = d.encodedState()
        #expect(bytes.count == 30 + 4 * (3 * 6 * 8 + 3 * 6), "header + 6 registers × 8 bands × 3 + 3 × 6 floats")
        var restored = try #require(AnomalyDetector(model: HeatPumpTrace.model()))
        try restored.restore(bytes)
        #expect(restored.encodedState() == bytes)
        #expect(restored.warmedUp(at: 86_400) && !restored.warmedUp(at: 86_399), "learning began at the first stored poll")

        var target = try #require(AnomalyDetector(model: HeatPumpTrace.model()))
        let empty = target.encodedState()
        var damaged = bytes
        damaged[0] = 0x58
        var nan = bytes
        nan.replaceSubrange(30..<34, with: Float.nan.bitPattern.littleEndianBytes)
        for (bad, why) in [(Array(bytes.dropLast(3)), "truncated"), (damaged, "bad magic"), (bytes + [0], "trailing bytes"), (nan, "non-finite")] {
            #expect(throws: AnomalyDetector.StateError.self, "\(why)") { try target.restore(bad) }
            #expect(target.encodedState() == empty, "\(why): unchanged")
        }
        var other = HeatPumpTrace.model()
        other.derived.anomaly?.registers = ["flow_temp", "return_temp"]
        var foreign = try #require(AnomalyDetector(model: other))
        #expect(throws: AnomalyDetector.StateError.self) { try foreign.restore(bytes) }
    }
}

extension UInt32 {
    var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
