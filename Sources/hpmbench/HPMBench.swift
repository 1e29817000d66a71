import ArgumentParser
import Foundation

/// `hpmbench`: performance measurements printed as tables (and JSON under bench/results/).
@main
struct HPMBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hpmbench", abstract: "hpmanager benchmarks (not part of swift test).")

    @Option(help: "Scenario: sinks.") var scenario = "sinks"
    @Option(help: "Simulated heat pumps.") var devices = 10_000
    @Option(help: "Registers per heat pump.") var registers = 50
    @Option(help: "Poll interval, seconds.") var interval = 10.0
    @Option(help: "Measured seconds per row.") var seconds = 10.0
    @Option(help: "Directory for the JSON results.") var results = "bench/results"

    func run() async throws {
        let bench = SinkBenchmark(devices: devices, registers: registers, interval: interval, seconds: seconds)
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
            json.append(["row": row.name, "fields_per_second": row.done, "cpu_share": row.cpu, "cpu_above_baseline": extra])
        }
        let sinks = rows.filter { $0.name.hasPrefix("sqlite store") || $0.name.hasPrefix("influx sink") }.map { max(0, $0.cpu - baseline) }.reduce(0, +)
        print(String(format: "both sinks together: %.1f%% of one core (target < 15%%)", sinks * 100))
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let data = try JSONSerialization.data(withJSONObject: ["scenario": scenario, "devices": devices, "registers": registers,
                                                               "interval": interval, "rows": json, "sinks_cpu_share": sinks], options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: "\(results)/\(scenario)-\(stamp).json"))
    }
}
