import Foundation

extension HPMBench {
    /// Derived metrics + anomaly scoring against a same-run baseline of the bare loop.
    func runInsight() throws {
        let bench = InsightBenchmark(devices: devices, registers: registers, interval: interval, seconds: seconds)
        let base = bench.run(baseline: true)
        let row = bench.run()
        let above = max(0, row.cpuShare - base.cpuShare)
        let abovePoll = max(0, row.perPoll - base.perPoll)
        print("insight: derived metrics + anomaly scoring, \(devices) devices × \(registers) registers every \(interval) s, \(seconds) s per row")
        print("row".padding(toLength: 44, withPad: " ", startingAt: 0) + "µs/poll".leftPad(10) + "CPU % 1 core".leftPad(14) + "above base".leftPad(12))
        for (name, r) in [("baseline: samples per poll, no insight", base), ("derived + comfort + anomaly scoring", row)] {
            print(name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: "%.2f", r.perPoll * 1e6).leftPad(10)
                  + String(format: "%.2f", r.cpuShare * 100).leftPad(14) + String(format: "%.2f", max(0, r.cpuShare - base.cpuShare) * 100).leftPad(12))
        }
        print(String(format: "insight above baseline: %.2f µs per device poll, %.1f ns per register, %.2f %% of one core (target <= 5)",
                     abovePoll * 1e6, abovePoll / Double(registers) * 1e9, above * 100))
        try FileManager.default.createDirectory(atPath: results, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let json: [String: Any] = ["scenario": "insight", "devices": devices, "registers": registers, "interval": interval,
                                   "baseline": ["rounds": base.rounds, "us_per_poll": base.perPoll * 1e6, "cpu_share": base.cpuShare],
                                   "insight": ["rounds": row.rounds, "us_per_poll": row.perPoll * 1e6, "cpu_share": row.cpuShare],
                                   "above_baseline": ["us_per_poll": abovePoll * 1e6, "cpu_share": above], "target_cpu_share": 0.05]
        try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: "\(results)/insight-\(stamp).json"))
    }
}
