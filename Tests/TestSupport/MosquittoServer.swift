import Foundation

/// A private `mosquitto` broker on a free loopback port; `stop` and `start` again reuse the port
/// (broker outage tests). Clients are Debian's `mosquitto_sub` / `mosquitto_pub`.
public final class MosquittoServer: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is replaced only by start/stop, which tests call sequentially.
    public let port: Int
    public let directory: TemporaryDirectory
    private var process: ManagedProcess?

    public var url: String { "mqtt://127.0.0.1:\(port)" }

    public init() throws {
        directory = try TemporaryDirectory(prefix: "hpm-mosquitto")
        port = try freeLoopbackPort()
        try directory.write("mosquitto.conf", """
        listener \(port) 127.0.0.1
        allow_anonymous true
        persistence false
        log_dest stderr
        log_type error
        log_type warning
        """)
        try start()
    }

    deinit { stop() }

    public func start() throws {
        process = try ManagedProcess(executable: "/usr/sbin/mosquitto", arguments: ["-c", directory.file("mosquitto.conf")])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.accepts(port) { return }
            usleep(20_000)
        }
        throw DeadlineExceeded(what: "mosquitto on port \(port)", seconds: 10)
    }

    public func stop() {
        process?.stop()
        process = nil
    }

    /// Retained messages on `filter` (wildcards allowed) as topic → payload; waits up to `seconds`
    /// for them (a single topic returns as soon as its message arrived).
    public func retained(_ filter: String, seconds: Double = 1) throws -> [String: String] {
        var arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-t", filter, "--retained-only", "-F", "%t\t%p"]
        if !filter.contains("#") && !filter.contains("+") { arguments += ["-C", "1"] }
        let output = try Self.run("/usr/bin/mosquitto_sub", arguments, seconds: seconds)
        var messages: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            messages[String(line[..<tab])] = String(line[line.index(after: tab)...])
        }
        return messages
    }

    /// Publishes one message (QoS 1); `retain` false.
    public func publish(_ topic: String, _ payload: String) throws {
        _ = try Self.run("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-m", payload], seconds: 5)
    }

    /// Runs a client for at most `seconds`, then kills it. Its own `-W` timer is not used: it rests
    /// on SIGALRM, which a child inherits blocked from the test process and never receives.
    static func run(_ executable: String, _ arguments: [String], seconds: Double) throws -> String {
        let outputPath = NSTemporaryDirectory() + "hpm-mqtt-client-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: outputPath, contents: nil), let output = FileHandle(forWritingAtPath: outputPath) else {
            throw DeadlineExceeded(what: "a temporary file for \(executable)", seconds: 0)
        }
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? output.close()
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
