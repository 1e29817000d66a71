import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

@Suite("Metrics file rendering")
struct MetricsFileSinkTests {
    func sink(_ dir: TemporaryDirectory) -> MetricsFileSink {
        MetricsFileSink(path: dir.file("out.prom"), interval: .seconds(1), version: "test", logger: Logger(label: "t"))
    }

    let odd = DeviceLabels(id: "hp-1", name: "Boiler \"North\"\nwing", location: "C:\\plant", model: "m", manufacturer: "ACME")

    func report(_ labels: DeviceLabels, up: Bool, at time: Double, samples: [Sample]) -> PollReport {
        PollReport(device: labels, timestamp: time, samples: samples,
                   status: DeviceStatus(state: up ? .polling : .backoff, up: up, lastSuccess: up ? time : nil, pollInterval: 1))
    }

    @Test("label values are escaped and the file passes promtool")
    func escaping() throws {
        let dir = try TemporaryDirectory()
        let s = sink(dir)
        s.updateModels(["m": ModelDefinition(name: "m", registers: [
            RegisterDefinition(name: "mode", address: 0, unit: "enum", description: "Mode \\ with backslash", enumValues: [1: "on \"hot\""]),
            RegisterDefinition(name: "energy_total", address: 1, dataType: .uint32, unit: "kwh"),
        ])])
        let now = Date().timeIntervalSince1970
        s.publish(report(odd, up: true, at: now, samples: [
            Sample(register: 0, name: "mode", value: .int(1), label: "on \"hot\""),
            Sample(register: 1, name: "energy_total", value: .int(1234)),
        ]))
        let text = s.render(now: now)
        #expect(text.contains(#"name="Boiler \"North\"\nwing",location="C:\\plant""#))
        #expect(text.contains(#"heatpump_mode_state{heatpump_id="hp-1","#) && text.contains(#"state="on \"hot\""} 1"#))
        #expect(text.contains("# HELP heatpump_mode Mode \\\\ with backslash"))
        #expect(text.contains("# TYPE heatpump_energy_total counter"))
        let (status, output) = try Promtool.check(text)
        #expect(status == 0, "\(output)")
        let parsed = PromMetrics(text)
        #expect(parsed.value("heatpump_mode", ["name": "Boiler \"North\"\nwing"]) == 1)
    }

    @Test("a failed or stale device keeps heatpump_up 0 and loses its register series")
    func staleness() throws {
        let dir = try TemporaryDirectory()
        let s = sink(dir)
        let now = Date().timeIntervalSince1970
        let labels = DeviceLabels(id: "a", name: "a", location: "", model: "m", manufacturer: "")
        s.publish(report(labels, up: true, at: now, samples: [Sample(register: 0, name: "t", value: .double(1.5))]))
        var m = PromMetrics(s.render(now: now))
        #expect(m.value("heatpump_up") == 1 && m.value("heatpump_t") == 1.5)
        // No report for more than three poll intervals: stale.
        m = PromMetrics(s.render(now: now + 10))
        #expect(m.value("heatpump_up") == 0 && !m.has("heatpump_t"))
        // A failed poll: values vanish at once.
        s.publish(report(labels, up: false, at: now + 11, samples: []))
        m = PromMetrics(s.render(now: now + 11))
        #expect(m.value("heatpump_up") == 0 && !m.has("heatpump_t") && m.value("heatpump_last_success_timestamp_seconds") == nil)
        s.deviceRemoved("a")
        #expect(!PromMetrics(s.render(now: now + 12)).has("heatpump_up"))
    }

    @Test("the file is replaced atomically and stays parseable")
    func atomicWrite() throws {
        let dir = try TemporaryDirectory()
        let s = sink(dir)
        s.writeNow()
        s.writeNow()
        let text = try String(contentsOfFile: dir.file("out.prom"), encoding: .utf8)
        #expect(PromMetrics(text).value("hpmanager_metrics_file_writes_total") == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }
}

@Suite("SQLite store JSON rows")
struct StoreJSONTests {
    @Test("readings JSON is valid and escapes labels")
    func json() throws {
        let text = SQLiteStore.json([
            Sample(register: 0, name: "t", value: .double(2.1)),
            Sample(register: 1, name: "n", value: .int(-5)),
            Sample(register: 2, name: "b", value: .bool(true)),
            Sample(register: 3, name: "mode", value: .int(1), label: "on \"hot\"\\\n"),
        ])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["t"] as? Double == 2.1 && object["n"] as? Int == -5 && object["b"] as? Bool == true)
        #expect(object["mode_label"] as? String == "on \"hot\"\\\n")
    }
}
