import Foundation
import Sinks
import Testing
import TestSupport

/// What the daemon leaves on disk: modes of every file it creates, symlink-proof metrics rewrites,
/// one daemon per state directory, and disk-fault episodes that are reported, not swallowed.
@Suite("Daemon files and state directory", .harnessThreads, .serialized)
struct DaemonFilesTests {
    static func mode(_ path: String) -> Int? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Int(info.st_mode & 0o7777)
    }

    /// A daemon with a log file and an InfluxDB sink whose server is not there (so the spool is used).
    static func harnessWithLogAndSpool(_ sim: SimulatorProcess) throws -> DaemonHarness {
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3)
        let files = harness.files
        try harness.dir.write("collector.yml", files.collectorYAML(metricsInterval: 0.2, socketIdleTimeout: 1, extra: """
        collector:
          poll_interval: 0.3
          batch_size: 1
          batch_interval: 0.1
        logging:
          level: DEBUG
          format: text
          file: \(harness.dir.path)/log/hpmanagerd.log
        influxdb:
          url: http://127.0.0.1:\(try freeLoopbackPort())
          version: 1
          database: hpm
          timeout: 0.5
          retry_interval: 0.2
        """))
        return harness
    }

    @Test("every file the daemon creates is 0640 (store, spool, -wal/-shm, log, lock), its directories 0750; the metrics file stays 0644 for node_exporter")
    func fileModes() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harnessWithLogAndSpool(sim)
        let daemon = try harness.start()
        let state = harness.dir.path + "/state"
        let databases = ["hpmanager.db", "hpmanager.db-wal", "hpmanager.db-shm", "influx-spool.db", "influx-spool.db-wal", "influx-spool.db-shm"]
        // The control socket too: the metrics file can be written before the socket is bound, and
        // the socket gets its mode just after (until then it is 0750 from the umask: stricter).
        _ = try? await eventually("store, spool, their WAL files and the control socket exist", timeout: 10) {
            databases.allSatisfy { FileManager.default.fileExists(atPath: "\(state)/\($0)") } && daemon.metrics() != nil
                && Self.mode(harness.socketPath) == 0o660 ? true : nil
        }
        for name in databases + ["hpmanagerd.lock"] { #expect(Self.mode("\(state)/\(name)") == 0o640, "\(name): \(String(Self.mode("\(state)/\(name)") ?? -1, radix: 8))") }
        #expect(Self.mode(harness.dir.path + "/log/hpmanagerd.log") == 0o640)
        for directory in ["state", "log", "run"] { #expect(Self.mode(harness.dir.path + "/" + directory) == 0o750, "\(directory)") }
        #expect(Self.mode(harness.metricsPath) == 0o644, "node_exporter runs as another user")
        #expect(Self.mode(harness.socketPath) == 0o660)
        // Nothing else in the state directory is readable by others.
        for name in try FileManager.default.contentsOfDirectory(atPath: state) {
            #expect((Self.mode("\(state)/\(name)") ?? 0o777) & 0o007 == 0, "\(name) is accessible to other users")
        }
        #expect(daemon.process.stop() == 0)
    }

    @Test("symlinks planted at the old predictable temp names are never followed: the victim is untouched and the metrics file is written")
    func metricsTempFileSymlink() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-symlink")
        let victim = dir.file("victim")
        try "root-only content\n".write(toFile: victim, atomically: false, encoding: .utf8)
        let target = dir.file("hpmanager.prom")
        // The names the writer used to pick: `.<name>.<pid>.tmp`, for this process and its neighbours.
        let pid = Int(getpid())
        for candidate in (pid - 2)...(pid + 2) {
            try FileManager.default.createSymbolicLink(atPath: dir.file(".hpmanager.prom.\(candidate).tmp"), withDestinationPath: victim)
        }
        for round in 0..<3 { try AtomicFileWriter.write("metric_round \(round)\n", to: target) }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "root-only content\n")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "metric_round 2\n")
        var info = stat()
        #expect(lstat(target, &info) == 0 && info.st_mode & S_IFMT == S_IFREG, "the target is a regular file, not a link")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.count == 5, "only the planted links remain: \(leftovers)")
        // A symlink planted at the target itself is replaced, not written through.
        try FileManager.default.removeItem(atPath: target)
        try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: victim)
        try AtomicFileWriter.write("metric_round 3\n", to: target)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "root-only content\n")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "metric_round 3\n")
    }

    @Test("a second daemon on the same state directory exits 75 with a clear message and never opens the store or spool")
    func oneDaemonPerStateDirectory() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harnessWithLogAndSpool(sim)
        let first = try harness.start()
        _ = try await DaemonHarness.waitFor(first, "first daemon writes") { DaemonHarness.up($0, "a") == 1 }
        // Same state directory, everything else elsewhere (so only the lock can stop it).
        let other = try TemporaryDirectory(prefix: "hpm-second")
        try FileManager.default.copyItem(atPath: harness.dir.file("heatpumps.yml"), toPath: other.file("heatpumps.yml"))
        let collector = try String(contentsOfFile: harness.dir.file("collector.yml"), encoding: .utf8)
            .replacingOccurrences(of: harness.metricsPath, with: other.file("m.prom"))
            .replacingOccurrences(of: harness.socketPath, with: other.file("s.sock"))
            .replacingOccurrences(of: "\(harness.dir.path)/log/", with: other.path + "/")
        try other.write("collector.yml", collector)
        let second = try DaemonProcess(configDir: other.path, metricsPath: other.file("m.prom"))
        #expect(second.process.waitForExit(timeout: 10) == 75)
        #expect(second.log.contains("another hpmanagerd (pid \(first.process.pid)) is already running on state directory"), "\(second.log)")
        let secondLog = (try? String(contentsOfFile: other.file("hpmanagerd.log"), encoding: .utf8)) ?? ""
        #expect(!secondLog.contains("spool") && !secondLog.contains("hpmanagerd starting"), "\(secondLog)")
        #expect(!FileManager.default.fileExists(atPath: other.file("m.prom")) && !FileManager.default.fileExists(atPath: other.file("s.sock")))
        #expect(first.process.isRunning)
        // After the first one stops, the lock is free again.
        #expect(first.process.stop() == 0)
        let third = try harness.start()
        _ = try await DaemonHarness.waitFor(third, "restarted daemon writes") { DaemonHarness.up($0, "a") == 1 }
    }

    /// The review's repro: `sqlite.path` absolute, `spool_path` relative (or through a symlink) to the same directory.
    @Test("store and spool in one directory spelled differently take one lock: the daemon starts instead of locking itself out",
          arguments: ["state/influx-spool.db", "alias/influx-spool.db"])
    func oneLockPerDirectoryInode(_ spoolPath: String) async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harnessWithLogAndSpool(sim)
        try FileManager.default.createDirectory(atPath: harness.dir.file("state"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: harness.dir.file("alias"), withDestinationPath: harness.dir.file("state"))
        let collector = try String(contentsOfFile: harness.dir.file("collector.yml"), encoding: .utf8)
            .replacingOccurrences(of: "  retry_interval: 0.2", with: "  retry_interval: 0.2\n  spool_path: \(spoolPath)")
        try harness.dir.write("collector.yml", collector)
        let daemon = try ManagedProcess(executable: try Products.path("hpmanagerd"),
                                        arguments: ["--config-dir", harness.dir.path, "--log-level", "debug"], directory: harness.dir.path)
        let log = { daemon.stderr.transcript.joined(separator: "\n") }
        do {
            _ = try await eventually("daemon polls with store and spool in one directory", timeout: 10, interval: 0.05) {
                guard daemon.isRunning else { throw DaemonExited() }
                return (try? String(contentsOfFile: harness.metricsPath, encoding: .utf8)).map(PromMetrics.init).flatMap { DaemonHarness.up($0, "a") == 1 ? true : nil }
            }
        } catch {
            Issue.record("exit \(daemon.waitForExit(timeout: 0).map(String.init) ?? "none"), log:\n\(log().suffix(3000))")
            throw error
        }
        #expect(!log().contains("already running"), "\(log().suffix(3000))")
        _ = try await eventually("spool created in the shared directory", timeout: 10) {
            FileManager.default.fileExists(atPath: harness.dir.file("state/influx-spool.db")) ? true : nil
        }
        #expect(daemon.stop() == 0)
    }

    struct DaemonExited: Error {}

    @Test("metrics file failures: every episode is logged when it starts and when it recovers")
    func metricsFileEpisodes() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "a up") { DaemonHarness.up($0, "a") == 1 }
        let metricsDir = (harness.metricsPath as NSString).deletingLastPathComponent
        for episode in 1...2 {
            // The test runs as root, so a read-only mode would not stop writes: a file where the directory was does.
            try FileManager.default.removeItem(atPath: metricsDir)
            try "not a directory".write(toFile: metricsDir, atomically: false, encoding: .utf8)
            _ = try await eventually("failure \(episode) logged", timeout: 5) {
                daemon.log.components(separatedBy: "cannot write metrics file").count - 1 == episode ? true : nil
            }
            try FileManager.default.removeItem(atPath: metricsDir)
            _ = try await eventually("recovery \(episode) logged", timeout: 5) {
                daemon.log.components(separatedBy: "metrics file writable again").count - 1 == episode ? true : nil
            }
        }
        let m = try await DaemonHarness.waitFor(daemon, "file written again") { ($0.value("hpmanager_metrics_file_write_errors_total") ?? 0) >= 2 }
        #expect(DaemonHarness.up(m, "a") == 1)
        #expect(daemon.log.components(separatedBy: "cannot write metrics file").count - 1 == 2, "one line per episode, not per attempt")
    }

    @Test("the state directory disappearing is noticed: an error line and hpmanager_state_directory_ok 0")
    func stateDirectoryRemoved() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start()
        let state = harness.dir.path + "/state"
        _ = try await DaemonHarness.waitFor(daemon, "state directory ok") { $0.value("hpmanager_state_directory_ok", ["path": state]) == 1 }
        try FileManager.default.removeItem(atPath: state)
        _ = try await DaemonHarness.waitFor(daemon, "state directory reported missing") { $0.value("hpmanager_state_directory_ok", ["path": state]) == 0 }
        #expect(daemon.log.contains("state directory disappeared or was replaced"), "\(daemon.log.suffix(2000))")
        #expect(daemon.process.isRunning)
    }

    @Test("a log file that cannot be written (ENOSPC on /dev/full) never crashes the daemon: it keeps polling and says so once on stderr")
    func logFileFull() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3)
        let collector = try String(contentsOfFile: harness.dir.file("collector.yml"), encoding: .utf8)
            .replacingOccurrences(of: "  format: text\n", with: "  format: text\n  file: /dev/full\n")
        try harness.dir.write("collector.yml", collector)
        let daemon = try harness.start()
        let first = try await DaemonHarness.waitFor(daemon, "a polled") { DaemonHarness.up($0, "a") == 1 }
        let before = try #require(DaemonHarness.lastSuccess(first, "a"))
        _ = try await DaemonHarness.waitFor(daemon, "still polling with debug logging to a full device") { (DaemonHarness.lastSuccess($0, "a") ?? 0) > before + 0.5 }
        #expect(daemon.process.isRunning)
        #expect(daemon.log.components(separatedBy: "cannot write log file /dev/full").count - 1 == 1, "\(daemon.log.suffix(2000))")
    }

    @Test("a log output that stops taking lines (a pipe nobody reads) never stops polling: a failing device keeps logging on the event loop a healthy one shares, and the healthy one is polled on")
    func stalledLogOutput() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        // Refused at once: "dark" fails and logs at every attempt, on the one event loop it shares with "a".
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0]), .init(id: "dark", port: try freeLoopbackPort())],
                                        interval: 0.3, collectorKeys: "  io_threads: 1")
        let fifo = harness.dir.file("log.fifo")
        try #require(mkfifo(fifo, 0o600) == 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        try #require(reader >= 0)
        var readerOpen = true
        defer { if readerOpen { close(reader) } }
        // Full before the daemon starts: its first log line would block on write(2).
        let filler = open(fifo, O_WRONLY | O_NONBLOCK)
        try #require(filler >= 0)
        let chunk = [UInt8](repeating: UInt8(ascii: "-"), count: 4096)
        var filled = 0
        while true {
            let n = write(filler, chunk, chunk.count)
            if n <= 0 { break }
            filled += n
        }
        close(filler)
        #expect(filled >= 4096)
        let collector = try String(contentsOfFile: harness.dir.file("collector.yml"), encoding: .utf8)
            .replacingOccurrences(of: "  format: text\n", with: "  format: text\n  file: \(fifo)\n")
        try harness.dir.write("collector.yml", collector)
        let daemon = try harness.start()
        let first = try await DaemonHarness.waitFor(daemon, "a up, dark down") { DaemonHarness.up($0, "a") == 1 && DaemonHarness.up($0, "dark") == 0 }
        let before = try #require(DaemonHarness.lastSuccess(first, "a"))
        let failures = first.value("heatpump_poll_errors_total", ["heatpump_id": "dark"]) ?? 0
        _ = try await DaemonHarness.waitFor(daemon, "a polled for 2 s more and dark tried (and logged) again, with the log output stalled", timeout: 20) {
            (DaemonHarness.lastSuccess($0, "a") ?? 0) > before + 2 && ($0.value("heatpump_poll_errors_total", ["heatpump_id": "dark"]) ?? 0) >= failures + 2
        }
        // Read on: the filler, then the daemon's lines, which were waiting in its buffer.
        var text = ""
        _ = try await eventually("the daemon's log lines behind the filler", timeout: 20) { () -> Bool? in
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = read(reader, &buffer, buffer.count)
            if n > 0 { text += String(decoding: buffer.prefix(n), as: UTF8.self) }
            return text.contains(" INFO ") ? true : nil
        }
        // With the reader gone writes fail (EPIPE, counted); shutdown does not wait for the output.
        close(reader)
        readerOpen = false
        #expect(daemon.process.stop() == 0)
    }
}
