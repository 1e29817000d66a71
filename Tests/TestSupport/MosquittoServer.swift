import Foundation

/// A private `mosquitto` broker on a free loopback port; `stop` and `start` again reuse the port
/// (broker outage tests). Clients are Debian's `mosquitto_sub` / `mosquitto_pub`.
///
/// With `tls`, a second listener on `tlsPort` speaks TLS with the server certificate of those
/// certificates (and, with `requireClientCertificate`, wants a client certificate from their CA);
/// the plain listener stays, so the test's own clients read retained messages without TLS.
public final class MosquittoServer: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is replaced only by start/stop, which tests call sequentially.
    public let port: Int
    /// The TLS listener's port; 0 without `tls`.
    public let tlsPort: Int
    public let directory: TemporaryDirectory
    private var process: ManagedProcess?

    public var url: String { "mqtt://127.0.0.1:\(port)" }
    public var tlsURL: String { "mqtts://127.0.0.1:\(tlsPort)" }

    /// - Parameter allowAnonymous: false refuses every client (no password file): CONNACK "not authorised".
    public init(tls: TestCertificates? = nil, requireClientCertificate: Bool = false, allowAnonymous: Bool = true) throws {
        directory = try TemporaryDirectory(prefix: "hpm-mosquitto")
        port = try freeLoopbackPort()
        var listeners = "listener \(port) 127.0.0.1\n"
        if let tls {
            var tlsPort = try freeLoopbackPort()
            while tlsPort == port { tlsPort = try freeLoopbackPort() }
            self.tlsPort = tlsPort
            listeners += """
            listener \(tlsPort) 127.0.0.1
            cafile \(tls.caFile)
            certfile \(tls.serverCert)
            keyfile \(tls.serverKey)
            require_certificate \(requireClientCertificate)

            """
        } else {
            tlsPort = 0
        }
        try directory.write("mosquitto.conf", """
        \(listeners)allow_anonymous \(allowAnonymous)
        persistence false
        log_dest stderr
        log_type error
        log_type warning
        log_type notice
        connection_messages true
        """)
        try start()
    }

    deinit { stop() }

    public func start() throws {
        process = try ManagedProcess(executable: "/usr/sbin/mosquitto", arguments: ["-c", directory.file("mosquitto.conf")])
        // A wait, not a bound: a loaded CI machine can take seconds to start it.
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if Self.accepts(port) && (tlsPort == 0 || Self.accepts(tlsPort)) { return }
            usleep(20_000)
        }
        throw DeadlineExceeded(what: "mosquitto on port \(port)", seconds: 30)
    }

    /// What the broker logged (errors, warnings, and one line per client connection naming its
    /// protocol: `New client connected from … as ID (p5, c1, k60)`), newest last.
    public var log: String { process?.stderr.transcript.joined(separator: "\n") ?? "" }

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
