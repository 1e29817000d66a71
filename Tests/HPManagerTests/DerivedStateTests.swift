import Foundation
import HPCore
import Insight
import Logging
import Sinks
import Testing
import TestSupport

/// Saving and restoring the derived state: a restored instance continues exactly as one that never
/// stopped; implausible, stale or foreign state is refused; the SQLite store keeps one row per device.
@Suite("Derived state: save and restore", .harnessThreads)
struct DerivedStateTests {
    static let utc = TimeZone(identifier: "UTC") ?? .current
    static let t0 = 1_705_276_800.0  // 2024-01-15 00:00 UTC
    static let inputs = DerivedInputs(scop: SCOPInputs(heat: [DerivedInput(register: "h")], electrical: [DerivedInput(register: "e")], maxPowerKW: 200),
                                      compressor: CompressorInputs(source: .running, register: DerivedInput(register: "run")))

    static func value(_ out: [Sample], _ name: String) -> Double? { out.first { $0.name == name }?.value.doubleValue }

    /// Through JSON, as the daemon saves it.
    static func roundTrip(_ d: DerivedMetrics) throws -> DerivedState {
        try JSONDecoder().decode(DerivedState.self, from: JSONEncoder().encode(d.saved))
    }

    @Test("a restored instance continues like one that never stopped: starts, run time, SCOP sums and the counter interval across the restart")
    func continues() throws {
        var first = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
        var polls: [(Double, [String: Double])] = [(0, ["h": 100, "e": 50, "run": 0]), (60, ["h": 101, "e": 50.25, "run": 1]),
                                                   (120, ["h": 102, "e": 50.5, "run": 0])]
        for (t, v) in polls { _ = first.observe(DerivedMetricsTests.samples(v), at: Self.t0 + t) }
        var restored = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
        let accepted = restored.restore(try Self.roundTrip(first), now: Self.t0 + 150)
        #expect(accepted)
        #expect(restored.saved == first.saved)
        // 1 start, 60 s running; heat 2 kWh over 0.5 kWh so far. The poll after the restart (t = 180 s,
        // compressor on again) is a second start; its interval (+2 kWh heat, +0.5 kWh) spans the restart.
        polls = [(180, ["h": 104, "e": 51, "run": 1]), (240, ["h": 105, "e": 51.25, "run": 1])]
        var out: [Sample] = []
        for (t, v) in polls {
            out = restored.observe(DerivedMetricsTests.samples(v), at: Self.t0 + t)
            _ = first.observe(DerivedMetricsTests.samples(v), at: Self.t0 + t)
        }
        #expect(Self.value(out, "compressor_starts_total") == 2)
        #expect(Self.value(out, "compressor_runtime_seconds_total") == 120, "60 s before the restart + 60 s after")
        #expect(Self.value(out, "scop_day") == 5.0 / 1.25, "(1 + 1 + 2 + 1) kWh heat over (0.25 + 0.25 + 0.5 + 0.25) kWh")
        #expect(restored.saved == first.saved, "identical to the instance that never stopped")
    }

    @Test("counter readings older than an hour are not restored (the outage's energy has no day); sums of an ended day are not reported")
    func staleCounters() throws {
        var first = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
        _ = first.observe(DerivedMetricsTests.samples(["h": 100, "e": 50, "run": 0]), at: Self.t0)
        _ = first.observe(DerivedMetricsTests.samples(["h": 104, "e": 51, "run": 0]), at: Self.t0 + 3600)
        var restored = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
        let accepted = restored.restore(try Self.roundTrip(first), now: Self.t0 + 3 * 3600)
        #expect(accepted)
        // Three hours later: 20 kWh more heat; without the old reading the interval is not counted.
        var out = restored.observe(DerivedMetricsTests.samples(["h": 124, "e": 52, "run": 0]), at: Self.t0 + 3 * 3600)
        #expect(Self.value(out, "scop_day") == 4, "the day's 4 kWh over 1 kWh, the outage not added")
        out = restored.observe(DerivedMetricsTests.samples(["h": 127, "e": 53, "run": 0]), at: Self.t0 + 4 * 3600)
        #expect(Self.value(out, "scop_day") == 7.0 / 2)
        // The next day, restored from a state saved yesterday: yesterday's day sum does not show as today's.
        var tomorrow = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
        let acceptedTomorrow = tomorrow.restore(try Self.roundTrip(first), now: Self.t0 + 86400 + 60)
        #expect(acceptedTomorrow)
        out = tomorrow.observe(DerivedMetricsTests.samples(["h": 200, "e": 80, "run": 0]), at: Self.t0 + 86400 + 60)
        #expect(Self.value(out, "scop_day") == nil && Self.value(out, "scop_month") == 4, "the month carries on, the day starts over")
    }

    @Test("implausible states are refused and change nothing; a last observation in the future is dropped")
    func implausible() throws {
        var d = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
        _ = d.observe(DerivedMetricsTests.samples(["h": 1, "e": 1, "run": 1]), at: Self.t0)
        let good = try Self.roundTrip(d)
        var negative = good
        negative.cycles?.starts = -3
        var otherVersion = good
        otherVersion.version = DerivedState.currentVersion + 1
        var badPeriod = good
        badPeriod.periods = [DerivedState.PeriodSums(period: "week", key: 1, heat: 1, electrical: 1)]
        for state in [negative, otherVersion, badPeriod] {
            var fresh = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
            let before = fresh.saved
            let accepted = fresh.restore(state, now: Self.t0 + 10)
            #expect(!accepted)
            #expect(fresh.saved == before)
        }
        // The clock was set back: an observation "from the future" would hold off every poll until then.
        var restored = DerivedMetrics(inputs: Self.inputs, timeZone: Self.utc)
        let accepted = restored.restore(good, now: Self.t0 - 600)
        #expect(accepted)
        _ = restored.observe(DerivedMetricsTests.samples(["h": 1, "e": 1, "run": 0]), at: Self.t0 - 590)
        let out = restored.observe(DerivedMetricsTests.samples(["h": 1, "e": 1, "run": 1]), at: Self.t0 - 580)
        #expect(Self.value(out, "compressor_starts_total") == 1, "polls after the restore count again")
    }

    @Test("the fingerprint changes with any derived setting (register, threshold, unit factor) and is stable for equal inputs")
    func fingerprint() {
        var threshold = Self.inputs
        threshold.compressor?.maxStartsPerHour = 4
        var factor = Self.inputs
        factor.scop?.heat[0].factor = 0.001
        var register = Self.inputs
        register.compressor?.register.register = "run2"
        let all = [Self.inputs, threshold, factor, register].map(\.fingerprint)
        #expect(Set(all).count == 4)
        #expect(DerivedInputs(scop: Self.inputs.scop, compressor: Self.inputs.compressor).fingerprint == Self.inputs.fingerprint)
    }

    @Test("the SQLite store keeps one row per device (the latest save), read back after queued saves; it survives reopening")
    func store() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-derived-state")
        let path = dir.path + "/store.db"
        var store = SQLiteStore(path: path, retention: 0, logger: Logger(label: "test"))
        try await store.open()
        #expect(try await store.loadDerivedState(heatpumpID: "hp1") == nil)
        store.saveDerivedState(StoredDerivedState(heatpumpID: "hp1", config: "c1", state: "{\"a\":1}", savedAt: 10))
        store.saveDerivedState(StoredDerivedState(heatpumpID: "hp1", config: "c2", state: "{\"a\":2}", savedAt: 20))
        store.saveDerivedState(StoredDerivedState(heatpumpID: "hp2", config: "c1", state: "{}", savedAt: 20))
        #expect(try await store.loadDerivedState(heatpumpID: "hp1") == StoredDerivedState(heatpumpID: "hp1", config: "c2", state: "{\"a\":2}", savedAt: 20))
        store = SQLiteStore(path: path, retention: 0, logger: Logger(label: "test"))
        try await store.open()
        #expect(try await store.loadDerivedState(heatpumpID: "hp2")?.state == "{}")
    }
}
