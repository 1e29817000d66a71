import ArgumentParser
import Foundation
import HPCore

/// `hpmbench`: performance measurements printed as tables (and JSON under bench/results/).
@main
struct HPMBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hpmbench", abstract: "hpmanager benchmarks (not part of swift test).")

    @Option(help: "Scenario: sinks, decode, insight (derived metrics + anomaly scoring), rtu, fleet (100/1,000/10,000 devices and 1,000 with 10% broken), one of fleet-100, fleet-1000, fleet-10000, fleet-broken, or blackout (1,000 + 300 dark, 10,000 + 3,000 dark), blackout-1000, blackout-10000.") var scenario = "sinks"
    @Option(help: "Measured seconds per fleet scenario.") var duration = 60.0
    @Option(help: "collector.io_threads (event-loop threads) for fleet scenarios; empty = the daemon's default.") var ioThreads = ""
    @Option(help: "Healthy devices the naive pymodbus baseline polls in the fleet-1000 and blackout rows (0 = none).") var naive = 100
    @Option(help: "Healthy devices the minimal blocking libmodbus poller (the CPU floor) polls in the fleet-100/1000/10000 rows (0 = none).") var floor = 100
    @Option(help: "Simulated heat pumps.") var devices = 10_000
    @Option(help: "Registers per heat pump.") var registers = 50
    @Option(help: "Poll interval, seconds.") var interval = 10.0
    @Option(help: "Measured seconds per row.") var seconds = 10.0
    @Option(help: "Directory for the JSON results.") var results = "bench/results"
    @Option(help: "Sinks scenario: remote-write queue.capacity (0 = default).") var rwCapacity = 0
    @Option(help: "Sinks scenario: remote-write queue.max_samples_per_send (0 = default).") var rwBatch = 0
    @Option(help: "Sinks scenario: remote-write queue.max_shards (0 = default).") var rwShards = 0
    @Option(help: "Sinks scenario: rows to run besides the baseline, comma-separated (metrics-file, sqlite, influx, remote-write (VictoriaMetrics and a null receiver), remote-write-null (only the latter), mqtt); empty = all.") var rows = ""

    func run() async throws {
        if scenario == "decode" {
            let rows = DecodeBenchmark(polls: 200_000).run()
            let base = rows.last?.1 ?? 1
            print("decode: 50 registers per poll (30 int16 ×0.1, 10 float32 CDAB, 10 uint16 with a sentinel), 200,000 polls")
            print("row".padding(toLength: 32, withPad: " ", startingAt: 0) + "ns/register".leftPad(14) + "µs/poll".leftPad(12) + "× baseline".leftPad(12))
            for (name, ns, us) in rows {
                print(name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%.1f", ns).leftPad(14) + String(format: "%.2f", us).leftPad(12) + String(format: "%.2f", ns / base).leftPad(12))
            }
            return
        }
        if scenario == "insight" {
            try runInsight()
            return
        }
                if scenario == "rtu" {
            let r = try await RTUBenchmark(duration: duration).run()
            print("rtu: 16 devices × 50 registers on one 9600-baud bus, configured interval 2 s, \(Int(duration)) s measured")
            for key in r.keys.sorted() { print("  \(key.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(format: "%.3f", r[key] ?? 0))") }
            try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
            let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
            try JSONSerialization.data(withJSONObject: ["scenario": "rtu", "values": r], options: [.prettyPrinted, .sortedKeys])
                .write(to: URL(fileURLWithPath: "\(results)/rtu-\(stamp).json"))
            return
        }
        if scenario.hasPrefix("fleet") || scenario.hasPrefix("blackout") {
            try await runFleet()
            return
        }
        var bench = SinkBenchmark(devices: devices, registers: registers, interval: interval, seconds: seconds)
        var queue = RemoteWriteSettings.Queue()
        if rwCapacity > 0 { queue.capacity = rwCapacity }
        if rwBatch > 0 { queue.maxSamplesPerSend = rwBatch }
        if rwShards > 0 { queue.maxShards = rwShards }
        bench.remoteQueue = queue
        bench.only = Set(self.rows.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        let rows = try await bench.run()
        let baseline = rows.first?.cpu ?? 0
        print("sinks: \(devices) devices × \(registers) registers every \(interval) s = \(Int(Double(devices * registers) / interval)) fields/s offered, \(seconds) s per row")
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, n - s.count))
            return left ? s + padding : padding + s
        }
        print(pad("row", 40, left: true) + pad("fields/s done", 15) + pad("CPU % 1 core", 15) + pad("above base", 12) + pad("× baseline", 12))
        var json: [[String: Any]] = []
        for row in rows {
            let extra = max(0, row.cpu - baseline)
            print(pad(row.name, 40, left: true) + pad(String(format: "%.0f", row.done), 15) + pad(String(format: "%.1f", row.cpu * 100), 15)
                  + pad(String(format: "%.1f", extra * 100), 12) + pad(String(format: "%.2f", baseline > 0 ? row.cpu / baseline : 0), 12))
            json.append(["row": row.name, "fields_per_second": row.done, "cpu_share": row.cpu, "cpu_above_baseline": extra,
                         "threads": Dictionary(row.threads, uniquingKeysWith: +)])
        }
        print("CPU % of one core by thread, per row:")
        for row in rows {
            print("  " + row.name + ": " + row.threads.prefix(6).map { "\($0.0) " + String(format: "%.1f", $0.1 * 100) }.joined(separator: ", "))
        }
        // With the defaults: MQTT's register_topics is `changed`, so that row counts; the `always` row is for comparison.
        // Remote write counts twice, once per receiver: VictoriaMetrics on the same cores (slower than the
        // intake here, so the sender also spools) and the null receiver (the sender's direct path alone).
        var central = 0.0
        for remoteRow in rows.filter({ $0.name.hasPrefix("remote write") }) {
            let centralRows = rows.filter { $0.name.hasPrefix("influx sink") || $0.name.hasPrefix("mqtt sink (changed") } + [remoteRow]
            let total = centralRows.map { max(0, $0.cpu - baseline) }.reduce(0, +)
            let centralDone = centralRows.map(\.done).min() ?? 0
            print(pad("central sinks total (\(remoteRow.name.hasSuffix("null receiver") ? "null receiver" : "VictoriaMetrics"))", 40, left: true)
                  + pad(String(format: "%.0f", centralDone), 15) + pad(String(format: "%.1f", (total + baseline) * 100), 15) + pad(String(format: "%.1f", total * 100), 12) + pad("", 12))
            print("central-engine sinks together (" + centralRows.map { $0.name }.joined(separator: " + ") + "): "
                  + String(format: "%.1f%% of one core above baseline (target <= 15%%)", total * 100))
            if remoteRow.name.hasSuffix("null receiver") || central == 0 { central = total }
        }
        let sinks = rows.filter { $0.name.hasPrefix("sqlite store") || $0.name.hasPrefix("influx sink") }.map { max(0, $0.cpu - baseline) }.reduce(0, +)
        print(String(format: "sqlite store + influx together: %.1f%% of one core (target < 15%%)", sinks * 100))
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let data = try JSONSerialization.data(withJSONObject: ["scenario": scenario, "devices": devices, "registers": registers,
                                                               "interval": interval, "rows": json, "sinks_cpu_share": sinks,
                                                               "central_sinks_cpu_share": central], options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(results)/\(scenario)-\(stamp).json"))
    }

    func runFleet() async throws {
        var scenarios: [FleetBenchmark] = []
        let all = scenario == "fleet"
        let threads = ioThreads.isEmpty ? nil : Int(ioThreads)
        func make(_ name: String, devices: Int, hung: Double = 0, refused: Double = 0, dark: Int = 0, units: Int = 100, naive: Int = 0, floor: Int = 0) -> FleetBenchmark {
            var s = FleetBenchmark(name: name, devices: devices, interval: interval, duration: duration, unitsPerGateway: units,
                                   hungFraction: hung, refusedFraction: refused)
            s.dark = dark
            s.ioThreads = threads
            s.naiveDevices = naive
            s.floorDevices = floor
            return s
        }
        if all || scenario == "fleet-100" { scenarios.append(make("100 TCP", devices: 100, floor: floor)) }
        if all || scenario == "fleet-1000" { scenarios.append(make("1,000 TCP", devices: 1000, naive: naive, floor: floor)) }
        if all || scenario == "fleet-broken" { scenarios.append(make("1,000: 5% hung, 5% refusing", devices: 1000, hung: 0.05, refused: 0.05)) }
        if all || scenario == "fleet-10000" { scenarios.append(make("10,000 TCP", devices: 10_000, floor: floor)) }
        let blackout = scenario == "blackout"
        if blackout || scenario == "blackout-1000" {
            scenarios.append(make("blackout: 1,000 + 300 dark", devices: 1000, dark: 300, units: 200, naive: naive))
        }
        if blackout || scenario == "blackout-10000" { scenarios.append(make("blackout: 10,000 + 3,000 dark", devices: 10_000, dark: 3000, units: 200)) }
        var rows: [(String, [String: Double])] = []
        for s in scenarios {
            FileHandle.standardError.write(Data("running \(s.name) for \(Int(s.duration)) s …\n".utf8))
            rows.append((s.name, try await s.run()))
        }
        func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, n - s.count))
            return left ? s + padding : padding + s
        }
        let columns: [(String, String, String)] = [
            ("on time", "on_time_ratio", "%.4f"), ("never", "never_polled", "%.0f"), ("up", "healthy_up_ratio", "%.3f"),
            ("µs/poll", "cpu_us_per_poll", "%.0f"), ("naive µs", "naive_cpu_us_per_poll", "%.0f"), ("× naive", "naive_ratio", "%.1f"),
            ("floor µs", "floor_cpu_us_per_poll", "%.0f"), ("× floor", "floor_ratio", "%.2f"),
            ("b2b µs", "floor_b2b_cpu_us_per_poll", "%.0f"), ("× b2b", "floor_b2b_ratio", "%.2f"),
            ("dark c/s", "dark_connects_per_s", "%.1f"), ("p50 ms", "poll_p50", "ms"), ("p99 ms", "poll_p99", "ms"), ("max ms", "poll_max", "ms"),
            ("req/poll", "requests_per_poll", "%.1f"), ("CPU %", "cpu_share", "pct"),
            ("RSS MiB", "rss_mib", "%.0f"), ("threads", "threads", "%.0f"), ("queue", "queue_max", "%.0f"),
            ("all up s", "startup_all_up_s", "%.1f"), ("stop s", "shutdown_s", "%.2f"),
        ]
        print("fleet: registers/device 50, interval \(interval) s, \(Int(duration)) s measured after start-up")
        print(pad("scenario", 34, left: true) + columns.map { pad($0.0, 10) }.joined())
        var json: [[String: Any]] = []
        for (name, r) in rows {
            let cells = columns.map { c -> String in
                let v = r[c.1] ?? 0
                switch c.2 {
                case "ms": return pad(String(format: "%.1f", v * 1000), 10)
                case "pct": return pad(String(format: "%.1f", v * 100), 10)
                default: return pad(String(format: c.2, v), 10)
                }
            }
            print(pad(name, 34, left: true) + cells.joined())
            json.append(["scenario": name, "values": r])
        }
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let data = try JSONSerialization.data(withJSONObject: ["scenario": scenario, "interval": interval, "duration": duration, "rows": json],
                                              options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(results)/\(scenario)-\(stamp).json"))
    }
}

extension String {
    func leftPad(_ n: Int) -> String { String(repeating: " ", count: max(0, n - count)) + self }
}
