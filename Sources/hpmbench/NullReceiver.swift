import Foundation

/// `bench/null_receiver.py`: a remote-write receiver in its own process that reads each request and
/// answers 204, so the sender's direct path is measured without a receiver competing for the cores.
final class NullReceiver {
    private let process = Process()
    private let portFile: String
    private let statsFile: String
    let port: Int

    struct Stats {
        var requests = 0
        var bytes = 0
        var refused = 0
    }

    init() throws {
        portFile = NSTemporaryDirectory() + "hpm-null-rw-\(getpid()).port"
        statsFile = NSTemporaryDirectory() + "hpm-null-rw-\(getpid()).json"
        try? FileManager.default.removeItem(atPath: portFile)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["bench/null_receiver.py", portFile, statsFile]
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        var port: Int?
        while port == nil, Date() < deadline, process.isRunning {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { usleep(20_000) }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw POSIXError(.ETIMEDOUT)  // bench/null_receiver.py did not report its port within 10 s
        }
        self.port = port
    }

    var url: String { "http://127.0.0.1:\(port)/api/v1/write" }

    /// Stops the receiver and returns what it counted (its stats file is rewritten every second,
    /// so it is read after a final second has passed).
    func stop() -> Stats {
        Thread.sleep(forTimeInterval: 1.2)
        var stats = Stats()
        if let data = FileManager.default.contents(atPath: statsFile),
           let json = try? JSONSerialization.jsonObject(with: data) as? [String: Int] {
            stats = Stats(requests: json["requests"] ?? 0, bytes: json["bytes"] ?? 0, refused: json["refused"] ?? 0)
        }
        // SIGKILL: a child of this process may not act on SIGTERM (as for the naive poller).
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: portFile)
        try? FileManager.default.removeItem(atPath: statsFile)
        return stats
    }
}
