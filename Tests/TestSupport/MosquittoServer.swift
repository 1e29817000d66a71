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

    /// Retained messages on `filter` (wildcards allowed) as topic → payload; waits `seconds` for them.
    public func retained(_ filter: String, seconds: Int = 1) throws -> [String: String] {
        let output = try Self.run("/usr/bin/mosquitto_sub", ["-h", "127.0.0.1", "-p", "\(port)", "-t", filter, "--retained-only",
                                                             "-W", "\(seconds)", "-F", "%t\t%p"])
        var messages: [String: String] = [:]
        for line in output.split(separator: "\n") {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            messages[String(line[..<tab])] = String(line[line.index(after: tab)...])
        }
        return messages
    }

    /// Publishes one message (QoS 1); `retain` false.
    public func publish(_ topic: String, _ payload: String) throws {
        _ = try Self.run("/usr/bin/mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(port)", "-q", "1", "-t", topic, "-m", payload])
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
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
