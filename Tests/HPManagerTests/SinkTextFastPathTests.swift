import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

/// The sinks' hot-path shortcuts must write exactly what the general code wrote before them.
@Suite("Sink text fast paths", .harnessThreads)
struct SinkTextFastPathTests {
    /// What `ByteText.append(Double)` wrote before the few-decimals fast path existed.
    static func reference(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    static func fast(_ value: Double) -> String {
        var out: [UInt8] = []
        ByteText.append(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test("few-decimals doubles are written byte for byte as Swift's shortest representation")
    func fewDecimalsMatchDescription() {
        var rng = SystemRandomNumberGenerator()
        var mismatches: [String] = []
        func check(_ v: Double) {
            let (a, b) = (Self.fast(v), Self.reference(v))
            if a != b, mismatches.count < 10 { mismatches.append("\(b) written as \(a)") }
        }
        // What registers produce: raw integers times a scale plus an offset, float32 and float16 values.
        let scales = [0.1, 0.01, 0.001, 0.5, 0.25, 0.2, 0.05, 1.0 / 3, 0.0001, 0.00001, 10, 1.8]
        for raw in -12_000...12_000 {
            for scale in scales { check(Double(raw) * scale) }
            check(Double(raw) * 0.1 - 273.15)
            check(Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw &* 2_654_435_761))))
        }
        // Decimal texts with up to 7 decimals, near the fast path's bounds (1e-3, 1e9) and beyond them.
        for _ in 0..<80_000 {
            let decimals = Int.random(in: 0...7, using: &rng)
            let n = Double(Int64.random(in: -2_000_000_000_000...2_000_000_000_000, using: &rng))
            let v = n / pow(10, Double(decimals))
            check(v)
            check(v.nextUp)
            check(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng)))
        }
        for v in [1e-3, (1e-3).nextDown, (1e-3).nextUp, 0.00123, 1e9, (1e9).nextDown, 999_999_999.99999, 0.5, -0.5, 123_456.78901, 1e-4, 5e-5] {
            check(v)
            check(-v)
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
    }

    @Test("a device relabelled between rewrites shows its new labels on every line")
    func relabelledDeviceUpdatesCachedLabels() throws {
        let dir = try TemporaryDirectory()
        let sink = MetricsFileSink(path: dir.file("out.prom"), interval: .seconds(1), version: "test", logger: Logger(label: "t"))
        let now = Date().timeIntervalSince1970
        func publish(name: String, model: String, samples: [Sample]) {
            sink.publish(PollReport(device: DeviceLabels(id: "hp", name: name, location: "roof", model: model, manufacturer: "ACME"),
                                    timestamp: now, samples: samples,
                                    status: DeviceStatus(state: .polling, up: true, lastSuccess: now, pollInterval: 10)))
        }
        publish(name: "old", model: "m", samples: [Sample(register: 0, name: "t", value: .double(21.5))])
        #expect(PromMetrics(sink.render(now: now)).value("heatpump_t", ["name": "old"]) == 21.5)
        // Same model, different samples (a register dropped out): the family layout is rebuilt too.
        publish(name: "new", model: "m", samples: [Sample(register: 1, name: "p", value: .double(-0.25))])
        let text = sink.render(now: now)
        #expect(!text.contains("name=\"old\""))
        let m = PromMetrics(text)
        #expect(m.value("heatpump_p", ["name": "new"]) == -0.25 && !m.has("heatpump_t"))
        #expect(m.value("heatpump_up", ["name": "new"]) == 1)
    }
}
