import Foundation
import Testing
import TestSupport

/// Control-socket hardening against the real daemon: client input is never environment-expanded,
/// the socket path is only reclaimed when it is a dead socket, long requests outlive the idle timeout,
/// and an unknown socket group is a configuration error.
@Suite("Control socket hardening", .harnessThreads, .serialized)
struct ControlSocketHardeningTests {
    static let secret = "s3cr3t-token-7f1c"

    @Test("${VAR} in a device spec sent over the socket stays literal: list, status and the metrics file never show the environment")
    func noExpansionOfSocketInput() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "yaml1", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start(environment: ["HPM_TEST_TOKEN": Self.secret])
        _ = try await DaemonHarness.waitFor(daemon, "yaml1 up") { DaemonHarness.up($0, "yaml1") == 1 }
        let literal = "${HPM_TEST_TOKEN}"
        var r = try ControlSocketTests.ctl(harness.socketPath, ["add", "--id", "rt1", "--model", "nibe_s1155", "--host", "127.0.0.1",
                                                                "--port", "\(sim.ports[1])", "--poll-interval", "0.3",
                                                                "--name", literal, "--location", "${HPM_TEST_TOKEN:-x}"])
        #expect(r.0 == 0, "\(r.2)")
        let m = try await DaemonHarness.waitFor(daemon, "rt1 polled") { DaemonHarness.up($0, "rt1") == 1 }
        #expect(m.value("heatpump_up", ["heatpump_id": "rt1", "name": literal, "location": "${HPM_TEST_TOKEN:-x}"]) == 1)
        #expect(!m.text.contains(Self.secret), "the metrics file shows the daemon's environment")
        r = try ControlSocketTests.ctl(harness.socketPath, ["list", "--json"])
        #expect(r.1.contains("HPM_TEST_TOKEN") && !r.1.contains(Self.secret), "\(r.1)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["status", "--json", "rt1"])
        #expect(!r.1.contains(Self.secret))
        // Stored runtime devices are re-read at start: still literal after a restart.
        #expect(daemon.process.stop() == 0)
        let again = try harness.start(environment: ["HPM_TEST_TOKEN": Self.secret])
        let m2 = try await DaemonHarness.waitFor(again, "rt1 after restart") { DaemonHarness.up($0, "rt1") == 1 }
        #expect(m2.value("heatpump_up", ["heatpump_id": "rt1", "name": literal]) == 1)
        #expect(!m2.text.contains(Self.secret))
    }

    /// A Unix socket bound at `path`; listening (a live daemon) or closed right away (stale file left behind).
    static func bindSocket(_ path: String, listening: Bool) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { close(fd); throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if listening { listen(fd, 4) } else { close(fd) }
        return fd
    }

    enum Occupant: String, CaseIterable, Sendable { case regularFile, symlink, directory }

    @Test("a regular file, directory or symlink at control_socket.path: exit 78, a clear message, nothing removed", arguments: Occupant.allCases)
    func socketPathOccupied(_ occupant: Occupant) throws {
        let harness = try DaemonHarness(devices: [])
        let path = harness.socketPath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let victim = harness.dir.file("victim")
        try "keep me\n".write(toFile: victim, atomically: false, encoding: .utf8)
        switch occupant {
        case .regularFile: try "important\n".write(toFile: path, atomically: false, encoding: .utf8)
        case .symlink: try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: victim)
        case .directory: try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        let daemon = try harness.start()
        #expect(daemon.process.waitForExit(timeout: 10) == 78)
        let words = ["regularFile": "is a regular file", "symlink": "is a symbolic link", "directory": "is a directory"]
        #expect(daemon.log.contains("control_socket.path \(path) \(words[occupant.rawValue] ?? "")"), "\(daemon.log)")
        var info = stat()
        #expect(lstat(path, &info) == 0, "the path is left alone")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep me\n")
        if occupant == .regularFile { #expect(try String(contentsOfFile: path, encoding: .utf8) == "important\n") }
        if occupant == .symlink { #expect(info.st_mode & S_IFMT == S_IFLNK && Self.modeOf(victim) == 0o644, "no chmod through the link") }
    }

    static func modeOf(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_mode & 0o7777) : -1
    }

    @Test("a socket another process listens on: exit 75, socket left in place; a stale socket is replaced and served")
    func liveAndStaleSockets() async throws {
        let harness = try DaemonHarness(devices: [])
        let path = harness.socketPath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let listener = try Self.bindSocket(path, listening: true)
        let refused = try harness.start()
        #expect(refused.process.waitForExit(timeout: 10) == 75)
        #expect(refused.log.contains("already listening on \(path)"), "\(refused.log)")
        #expect(try UnixSocketClient(path: path).fd >= 0, "the other process still owns its socket")
        close(listener)
        // Now only a dead socket file remains: it is reclaimed.
        #expect(FileManager.default.fileExists(atPath: path))
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "daemon running") { $0.has("hpmanager_build_info") }
        let r = try ControlSocketTests.ctl(path, ["list"])
        #expect(r.0 == 0, "\(r.2)")
    }

    @Test("the idle timeout never cuts a request in flight: a test slower than idle_timeout is answered, an idle client is still closed")
    func slowRequestOutlivesIdleTimeout() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        // idle_timeout 3 s and a `test` of ~4 s: the client's own delay between reading the answer and
        // sending its next request (a test process starved on a loaded machine took over 1 s) stays
        // well inside the idle period the server grants after an answer.
        let harness = try DaemonHarness(devices: [], socketIdleTimeout: 3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "daemon running") { $0.has("hpmanager_build_info") }
        let port = sim.ports[0]
        _ = try sim.command("latency \(port) 1 \(4000 / (try NIBEModelTests.requestsPerPoll()))")  // ~4 s for one `test`
        let client = try UnixSocketClient(path: harness.socketPath)
        let request: [String: Any] = ["cmd": "test", "args": ["device": [
            "id": "probe", "model": "nibe_s1155", "modbus": ["type": "tcp", "host": "127.0.0.1", "port": port, "timeout": 2],
        ]]]
        let line = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        let started = Date()
        client.send(line + "\n")
        let answer = try #require(client.readLine(timeout: 15), "closed without an answer after \(Date().timeIntervalSince(started)) s")
        #expect(Date().timeIntervalSince(started) > 3.2, "the request really outlasted the idle timeout")
        let nibeRequests = try NIBEModelTests.requestsPerPoll()
        #expect(answer.contains("\"ok\":true") && answer.contains("\"requests\":\(nibeRequests)"), "\(answer)")
        // The client gets a full idle period for its next request (0.2 s into the 3 s period)…
        try await Task.sleep(for: .seconds(0.2))
        client.send("{\"cmd\":\"ping\"}\n")
        #expect(client.readLine(timeout: 3) != nil)
        // …and is closed once it stays silent.
        #expect(client.closedByPeer(timeout: 6))
    }

    @Test("control_socket.group naming no group: --check and start-up both exit 78 with a located message")
    func unknownSocketGroup() throws {
        let harness = try DaemonHarness(devices: [])
        let collector = try String(contentsOfFile: harness.dir.file("collector.yml"), encoding: .utf8)
            .replacingOccurrences(of: "control_socket:\n", with: "control_socket:\n  group: nosuchgroup\n")
        try harness.dir.write("collector.yml", collector)
        let line = (collector.components(separatedBy: "\n").firstIndex { $0.contains("nosuchgroup") } ?? -1) + 1
        let wanted = "collector.yml:\(line): control_socket.group: unknown group \"nosuchgroup\""
        let check = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", harness.dir.path, "--check"])
        #expect(check.waitForExit(timeout: 10) == 78)
        usleep(100_000)
        #expect(check.stderr.transcript.joined(separator: "\n").contains(wanted), "\(check.stderr.transcript)")
        let daemon = try harness.start()
        #expect(daemon.process.waitForExit(timeout: 10) == 78)
        #expect(daemon.log.contains(wanted), "\(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: harness.socketPath))
        // A group that exists (by name or number) is accepted.
        try harness.dir.write("collector.yml", collector.replacingOccurrences(of: "nosuchgroup", with: "0"))
        let ok = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", harness.dir.path, "--check"])
        #expect(ok.waitForExit(timeout: 10) == 0)
    }
}
