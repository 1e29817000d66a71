import Foundation
import HPCore
import Insight
import Testing

/// The detector on simulated heat-pump traces (`HeatPumpTrace`, polled every 10 s with the default
/// settings: 24 h warm-up, threshold 0.5), faults injected after three days of normal operation.
/// Detection times stated here are the ones docs/derived-metrics.md promises.
@Suite("Anomaly detection on simulated traces", .harnessThreads)
struct AnomalyTraceTests {
    static let interval = 10.0
    static let learnt = 3 * 86_400.0

    /// The detector and the trace after three normal days (shared: both are values, copied per test).
    static let baseline: (AnomalyDetector, HeatPumpTrace) = {
        var trace = HeatPumpTrace(seed: 42)
        guard var detector = AnomalyDetector(model: HeatPumpTrace.model(), timeZone: TimeZone(identifier: "UTC") ?? .current) else {
            preconditionFailure("the trace model declares anomaly:")
        }
        for t in stride(from: 0, to: AnomalyTraceTests.learnt, by: AnomalyTraceTests.interval) { _ = detector.observe(trace.poll(at: t), at: t) }
        return (detector, trace)
    }()

    /// Runs the trace with `fault` from `learnt` on, for at most `limit` seconds; returns the seconds
    /// to the alert and its message (nil: no alert).
    static func detect(_ fault: HeatPumpTrace.Fault, within limit: Double) -> (after: Double, message: String)? {
        var (detector, trace) = Self.baseline
        trace.fault = fault
        trace.faultAt = Self.learnt
        for t in stride(from: Self.learnt, through: Self.learnt + limit, by: Self.interval) {
            let verdict = detector.observe(trace.poll(at: t), at: t)
            if verdict.alerting { return (t - Self.learnt, verdict.message) }
        }
        return nil
    }

    @Test("a week of normal operation (accelerated, 60 480 polls): no false alarm after the warm-up (promise: at most 1 a week)")
    func normalWeek() throws {
        var trace = HeatPumpTrace(seed: 1)
        var detector = try #require(AnomalyDetector(model: HeatPumpTrace.model(), timeZone: TimeZone(identifier: "UTC") ?? .current))
        var raised: [String] = [], wasAlerting = false, highest = 0.0, scored = 0
        for t in stride(from: 0, to: 7 * 86_400.0, by: Self.interval) {
            let v = detector.observe(trace.poll(at: t), at: t)
            if t >= 86_400 { highest = max(highest, v.score); scored += 1 }
            if v.alerting && !wasAlerting { raised.append("\(Int(t / 3600)) h: \(v.message)") }
            wasAlerting = v.alerting
        }
        #expect(scored == 51_840)
        #expect(raised.count <= 1, "false alarms: \(raised)")
        #expect(raised.isEmpty, "none expected with this trace; highest score \(highest): \(raised)")
    }

    @Test("a stuck return-temperature sensor is named within 10 minutes")
    func stuckSensor() throws {
        let found = try #require(Self.detect(.stuckReturn, within: 1800), "not detected in 30 min")
        #expect(found.after <= 600, "after \(found.after) s")
        #expect(found.message.contains("return_temp stuck at"), "\(found.message)")
    }

    @Test("a slow pressure loss (flow rate falling 0.25 l/min per hour) is named within 8 hours, with its usual range at that outdoor band")
    func fallingFlow() throws {
        let found = try #require(Self.detect(.fallingFlow(perHour: 0.25), within: 12 * 3600), "not detected in 12 h")
        #expect(found.after <= 8 * 3600, "after \(found.after / 3600) h")
        #expect(found.message.hasPrefix("flow_rate ") && found.message.contains(" l/min, usual ") && found.message.contains("°C outdoor"), "\(found.message)")
    }

    @Test("a compressor cycling every 8 minutes is named within 45 minutes")
    func cycling() throws {
        let found = try #require(Self.detect(.cycling, within: 2 * 3600), "not detected in 2 h")
        #expect(found.after <= 45 * 60, "after \(found.after / 60) min")
        #expect(found.message.contains("compressor") && found.message.contains("starts/h"), "\(found.message)")
    }

    @Test("a defrost that never ends is named within 25 minutes (limit 20 min)")
    func endlessDefrost() throws {
        let found = try #require(Self.detect(.endlessDefrost, within: 3600), "not detected in 1 h")
        #expect(found.after <= 25 * 60 && found.after >= 20 * 60 - 30, "after \(found.after / 60) min")
        #expect(found.message.contains("defrost running for"), "\(found.message)")
    }

    @Test("the alert resolves once the stuck sensor reads again")
    func resolves() throws {
        var (detector, trace) = Self.baseline
        trace.fault = .stuckReturn
        trace.faultAt = Self.learnt
        var t = Self.learnt
        var alerting = false
        while t < Self.learnt + 1800, !alerting {
            alerting = detector.observe(trace.poll(at: t), at: t).alerting
            t += Self.interval
        }
        #expect(alerting)
        trace.fault = .none
        let repaired = t
        while t < repaired + 1800, alerting {
            alerting = detector.observe(trace.poll(at: t), at: t).alerting
            t += Self.interval
        }
        #expect(!alerting && t - repaired <= 60, "resolved \(t - repaired) s after the repair")
    }
}
