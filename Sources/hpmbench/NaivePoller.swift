import Foundation
import TestSupport

/// The same-run baseline: `bench/naive_poller.py`, one pymodbus request per register (HPManager's
/// way), run as a separate process; its CPU comes from /proc like the daemon's.
final class NaivePoller {
    static let python = ".venv-bench/bin/python3"
    private let process: Process
    private let output = Pipe()
    private let sampler: ProcessSampler
    private let cpu0: Double
    private let listFile: String
    private let statsFile: String

    struct Result {
        var polls: Double
        var cpuSeconds: Double
    }

    init(devices: [(host: String, port: Int, unit: Int)], interval: Double) throws {
        listFile = NSTemporaryDirectory() + "hpm-naive-\(getpid()).txt"
        statsFile = NSTemporaryDirectory() + "hpm-naive-\(getpid()).json"
        try devices.map { "\($0.host) \($0.port) \($0.unit)" }.joined(separator: "\n").write(toFile: listFile, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["bench/naive_poller.py", String(interval), listFile, statsFile]
        process.standardOutput = output
        try process.run()
        sampler = ProcessSampler(pid: process.processIdentifier)
        Thread.sleep(forTimeInterval: interval)  // connected and polling
        cpu0 = sampler.cpuSeconds()
        polls0 = Self.polls(statsFile)
    }

    private var polls0 = 0.0

    static func polls(_ file: String) -> Double {
        guard let data = FileManager.default.contents(atPath: file),
              let stats = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return 0 }
        return stats["polls"] as? Double ?? 0
    }

    func stop() -> Result {
        let cpu = sampler.cpuSeconds() - cpu0
        let polls = Self.polls(statsFile) - polls0
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: listFile)
        try? FileManager.default.removeItem(atPath: statsFile)
        return Result(polls: polls, cpuSeconds: cpu)
    }
}
