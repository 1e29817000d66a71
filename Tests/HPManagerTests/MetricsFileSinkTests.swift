import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

@Suite("Metrics file rendering", .harnessThreads)
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

@Suite("SQLite store JSON rows", .harnessThreads)
struct StoreJSONTests {
    @Test("readings JSON is valid and escapes labels")
    func json() throws {
        let text = ReadingJSON.encode([
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

@Suite("Sink number text (formatted straight into bytes)", .harnessThreads)
struct SinkNumberTextTests {
    static let values: [SampleValue] = [
        .int(0), .int(-1), .int(Int64.min), .int(Int64.max), .uint(UInt64.max), .uint(9), .uint(10),
        .double(0.1), .double(-0.0), .double(21.5), .double(-273.15), .double(1e15), .double(-1e15 + 1), .double(1e300),
        .double(.leastNonzeroMagnitude), .double(123456789012345.0), .bool(true), .bool(false),
    ]

    @Test("readings JSON keeps every value exactly (parsed back by Foundation)")
    func jsonRoundTrip() throws {
        let samples = Self.values.enumerated().map { Sample(register: $0.offset, name: "r\($0.offset)", value: $0.element) }
        let text = ReadingJSON.encode(samples + [Sample(register: 99, name: "nan", value: .double(.nan))])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        for (i, value) in Self.values.enumerated() {
            let parsed = try #require(object["r\(i)"] as? NSNumber, "r\(i) in \(text)")
            switch value {
            case .int(let v): #expect(parsed.int64Value == v, "\(v)")
            case .uint(let v): #expect(parsed.uint64Value == v, "\(v)")
            case .double(let v): #expect(parsed.doubleValue == v, "\(v)")
            case .bool(let v): #expect(parsed.boolValue == v)
            case .string: Issue.record("values are numbers")
            }
        }
        #expect(object["nan"] is NSNull, "NaN has no JSON spelling: null")
    }

    @Test("rewrites run on the sink's own thread (never the cooperative pool); the last one, on cancellation, marks every device down")
    func rewriteThread() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-mthread")
        let path = dir.file("out.prom")
        let sink = MetricsFileSink(path: path, interval: .milliseconds(100), version: "test", logger: Logger(label: "t"))
        let now = Date().timeIntervalSince1970
        sink.publish(PollReport(device: DeviceLabels(id: "hp-1", name: "n", location: "l", model: "m", manufacturer: "x"), timestamp: now,
                                samples: [Sample(register: 0, name: "t", value: .double(21.5))],
                                status: DeviceStatus(state: .polling, up: true, lastSuccess: now, pollInterval: 10)))
        let running = Task { try await sink.run() }
        let deadline = ContinuousClock.now + .seconds(20)
        var names: [String] = []
        while ContinuousClock.now < deadline {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
            names = tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
                .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if names.contains("metrics-file-1"), FileManager.default.fileExists(atPath: path) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(names.contains("metrics-file-1"), "threads: \(Set(names).sorted())")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("heatpump_up{heatpump_id=\"hp-1\""))
        running.cancel()
        _ = await running.result
        let last = try String(contentsOfFile: path, encoding: .utf8)
        #expect(last.split(separator: "\n").contains { $0.hasPrefix("heatpump_up{heatpump_id=\"hp-1\"") && $0.hasSuffix(" 0") }, "final write: down")
        #expect(!last.contains("heatpump_t{"), "final write: no register series")
    }

    /// `devices` heat pumps of 50 numeric registers, and one with an enum, a bitmap, a text and a template instance.
    static func fleet(_ sink: MetricsFileSink, devices: Int, at now: Double) {
        let status = DeviceStatus(state: .polling, up: true, lastSuccess: now, pollInterval: 10)
        for d in 0..<devices {
            let labels = DeviceLabels(id: "hp-\(d)", name: "Heat pump \(d)", location: "Building \(d % 7)", model: "m", manufacturer: "x")
            sink.publish(PollReport(device: labels, timestamp: now, samples: (0..<50).map {
                Sample(register: $0, name: "r\($0)", value: $0 % 2 == 0 ? .int(Int64(d * $0)) : .double(Double(d) + Double($0) / 4))
            }, status: status))
        }
        sink.publish(PollReport(device: DeviceLabels(id: "mixed", name: "n", location: "l", model: "m2", manufacturer: "x"), timestamp: now, samples: [
            Sample(register: 0, name: "r1", value: .double(2.5)),
            Sample(register: 1, name: "mode", value: .int(1), label: "heating"),
            Sample(register: 2, name: "flags", value: .int(5), bits: [0, 2]),
            Sample(register: 3, name: "firmware", value: .string("1.2.3")),
            Sample(register: 4, name: "circuit_a.flow", value: .double(35.5), instance: SeriesInstance(series: "circuit_flow", labels: [SeriesLabel(name: "circuit", value: "A")])),
        ], status: status))
    }

    @Test("a rewrite larger than one chunk streams into the file byte for byte as rendered in memory; promtool accepts it")
    func streamedRewrite() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-stream")
        let path = dir.file("out.prom")
        let sink = MetricsFileSink(path: path, interval: .seconds(10), version: "test", logger: Logger(label: "t"))
        let now = Date().timeIntervalSince1970
        Self.fleet(sink, devices: 400, at: now)
        sink.writeNow()
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written.utf8.count > 4 * MetricsRenderer.chunk, "spans several chunks: \(written.utf8.count) bytes")
        // The file's own bookkeeping lines differ (written before the rewrite counted, rendered at another instant).
        func body(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.contains("hpmanager_metrics_file_") } }
        #expect(body(written) == body(sink.render(now: now)))
        #expect(written.contains(#"heatpump_mode_state{heatpump_id="mixed""#) && written.contains(#"heatpump_flags_bit{heatpump_id="mixed""#)
                && written.contains(#"heatpump_firmware_info{heatpump_id="mixed""#) && written.contains(#"circuit="A"} 35.5"#))
        #expect(written.contains(#"heatpump_r3{heatpump_id="hp-399",name="Heat pump 399",location="Building 0",model="m",manufacturer="x"} 399.75"#))
        let (status, output) = try Promtool.check(written)
        #expect(status == 0, "\(output.prefix(500))")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test("a disk that fills up in the middle of a streamed rewrite leaves the previous file whole and no temp file; the error is counted")
    func streamedRewriteDiskFull() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-full")
        let mount = dir.file("small")
        try FileManager.default.createDirectory(atPath: mount, withIntermediateDirectories: true)
        // A 1 MiB tmpfs: room for a small file, not for a fleet's. Needs root (the test environment has it).
        guard (try? DeployFiles.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mount]))?.0 == 0 else {
            print("skipped: cannot mount a tmpfs here (needs root)")
            return
        }
        defer { _ = try? DeployFiles.run("/bin/umount", ["-l", mount]) }
        let path = mount + "/out.prom"
        let sink = MetricsFileSink(path: path, interval: .seconds(10), version: "test", logger: Logger(label: "t"))
        let now = Date().timeIntervalSince1970
        Self.fleet(sink, devices: 1, at: now)
        sink.writeNow()
        let before = try String(contentsOfFile: path, encoding: .utf8)
        #expect(before.contains(#"heatpump_r1{heatpump_id="hp-0""#))
        Self.fleet(sink, devices: 300, at: now)   // ~3 MB: ENOSPC after the first chunks
        sink.writeNow()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == before, "the previous file is untouched")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mount).filter { $0.hasSuffix(".tmp") }.isEmpty, "no temp file left")
        #expect(PromMetrics(sink.render(now: now)).value("hpmanager_metrics_file_write_errors_total") == 1)
    }

    @Test("metrics lines: the same values as Go's ParseFloat reads them; non-finite as NaN/+Inf/-Inf")
    func metricsValues() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-num")
        let sink = MetricsFileSink(path: dir.file("out.prom"), interval: .seconds(1), version: "test", logger: Logger(label: "t"))
        let doubles = Self.values.map(\.doubleValue) + [.nan, .infinity, -.infinity]
        let now = Date().timeIntervalSince1970
        sink.publish(PollReport(device: DeviceLabels(id: "hp", name: "n", location: "l", model: "m", manufacturer: "x"), timestamp: now,
                                samples: doubles.enumerated().map { Sample(register: $0.offset, name: "v\($0.offset)", value: .double($0.element)) },
                                status: DeviceStatus(state: .polling, up: true, lastSuccess: now, pollInterval: 10)))
        let text = sink.render(now: now)
        for (i, v) in doubles.enumerated() {
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("heatpump_v\(i){") })
            let field = String(line.split(separator: " ").last ?? "")
            if v.isNaN { #expect(field == "NaN") } else if v.isInfinite { #expect(field == (v > 0 ? "+Inf" : "-Inf")) } else {
                #expect(Double(field) == v, "\(line)")
                if v == v.rounded(), abs(v) < 1e15 { #expect(!field.contains(".") && !field.contains("e"), "integral without a fraction: \(line)") }
            }
        }
    }
}

@Suite("SQLite reading history on and off", .harnessThreads)
struct ReadingHistorySwitchTests {
    @Test("readings_retention 0 stores no readings; any other retention stores one row per poll")
    func retentionZero() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-ret")
        let now = Date().timeIntervalSince1970
        let report = PollReport(device: DeviceLabels(id: "hp", name: "n", location: "l", model: "m", manufacturer: "x"), timestamp: now,
                                samples: [Sample(register: 0, name: "t", value: .double(21.5))],
                                status: DeviceStatus(state: .polling, up: true, lastSuccess: now, pollInterval: 10))
        for (retention, expected) in [(0.0, 0), (3600.0, 1)] {
            let store = SQLiteStore(path: dir.file("store-\(Int(retention)).db"), retention: retention, logger: Logger(label: "t"))
            try await store.open()
            let running = Task { try await store.run() }
            store.publish(report)
            let history = try await store.history(heatpumpID: "hp", register: "t")
            #expect(history.count == expected, "retention \(retention)")
            running.cancel()
            _ = await running.result
        }
    }
}
