import CurlKit
import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Faults around the Influx sink: hostile answers, slow servers, shutdown, a full disk, secrets.
@Suite("Influx sink hardening", .harnessThreads, .serialized)
struct InfluxHardeningTests {
    /// One device polled every 0.2 s, its points sent to `server` (or `url`) with `influxKeys` under `influxdb:`.
    static func daemon(url: String, dir: TemporaryDirectory, influxKeys: String, collectorKeys: String = "", spoolPath: String? = nil)
        throws -> (SimulatorProcess, DaemonProcess, DaemonHarness) {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.2,
                                        collectorKeys: "  batch_interval: 0.2\n" + collectorKeys, extraSections: """
        influxdb:
          url: \(url)
          retry_interval: 1
          spool_path: \(spoolPath ?? dir.file("spool.db"))
        \(influxKeys)
        """)
        return (sim, try harness.start(), harness)
    }

    @Test("Retry-After: 99999999999 is capped at retry_interval_max: delivery resumes within the cap")
    func retryAfterCap() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-429")
        let server = try RecordingHTTPServer(status: 429, retryAfter: "99999999999", directory: dir)
        let (sim, daemon, harness) = try Self.daemon(url: "http://127.0.0.1:\(server.port)", dir: dir,
                                                     influxKeys: "  org: o\n  bucket: b\n  retry_interval_max: 2")
        defer { withExtendedLifetime((sim, harness)) {} }
        let first = try await eventually("a first, refused attempt", timeout: 10) { server.requests().first?["at"] as? Double }
        try server.setStatus(204)
        let m = try await DaemonHarness.waitFor(daemon, "delivery resumed", timeout: 8) { ($0.value("hpmanager_influx_points_sent_total") ?? 0) > 0 }
        let attempts = server.requests().compactMap { $0["at"] as? Double }
        #expect(attempts.count >= 2 && attempts[1] - first >= 1.9 && attempts[1] - first < 4, "second attempt after the 2 s cap: \(attempts)")
        #expect((m.value("hpmanager_influx_write_failures_total") ?? 0) >= 1)
    }

    @Test("a 500 answer streaming 200 MB: the client keeps 64 KiB and hangs up")
    func hugeErrorBody() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-huge")
        let size = 200 * 1024 * 1024
        let server = try RecordingHTTPServer(status: 500, bodyBytes: size, directory: dir)
        let client = try CurlHTTPClient(options: .init(timeout: 20))
        let response = try client.post(url: "http://127.0.0.1:\(server.port)/api/v2/write", body: Array("m x=1 1".utf8), headers: [])
        #expect(response.status == 500)
        #expect(response.body.utf8.count == 64 * 1024 && response.bodyTruncated)
        // The server could not push the whole body: the client stopped reading it.
        let sent = try await eventually("the server's count of sent bytes", timeout: 10) { server.bodyBytesSent().count >= 2 ? server.bodyBytesSent() : nil }
        #expect(sent.last.map { $0 < size } == true, "server sent \(sent)")
        // And the same client still works afterwards (a fresh connection replaces the abandoned one).
        let again = try client.post(url: "http://127.0.0.1:\(server.port)/probe", body: [], headers: [])
        #expect(again.status == 500 && !again.bodyTruncated)
    }

    @Test("SIGTERM while a write hangs on a very slow InfluxDB: exit within shutdown_timeout, every point kept in the spool")
    func shutdownDuringSlowWrite() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-slow")
        let server = try RecordingHTTPServer(status: 204, answerDelay: 60, directory: dir)
        let (sim, daemon, harness) = try Self.daemon(url: "http://127.0.0.1:\(server.port)", dir: dir,
                                                     influxKeys: "  org: o\n  bucket: b\n  timeout: 120", collectorKeys: "  shutdown_timeout: 4")
        defer { withExtendedLifetime(harness) {} }
        _ = try await eventually("a write in flight", timeout: 10) { server.requests().isEmpty ? nil : true }
        _ = try await DaemonHarness.waitFor(daemon, "a few polls") { InfluxTests.successfulPolls($0, "a") >= 3 }
        try sim.command("down \(sim.ports[0])")
        let m = try await DaemonHarness.waitFor(daemon, "device down") { DaemonHarness.up($0, "a") == 0 }
        let polls = InfluxTests.successfulPolls(m, "a")
        let start = Date()
        daemon.process.signal(SIGTERM)
        let status = daemon.process.waitForExit(timeout: 10)
        let took = Date().timeIntervalSince(start)
        #expect(status == 0 && took < 3, "exited with \(String(describing: status)) after \(took) s")
        let spool = try SQLiteDatabase(path: dir.file("spool.db"))
        let spooled = Int(try spool.query("SELECT COALESCE(SUM(points), 0) FROM spool").first?[0].int ?? -1)
        #expect(spooled == polls * InfluxTests.pointsPerPoll("nibe_s1155"), "nothing acknowledged, nothing lost: \(spooled) points spooled for \(polls) polls")
    }

    @Test("v1 password, v1 token and v2 token never appear in a log line (unreachable and failing InfluxDB)")
    func secretsNeverLogged() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-secret")
        let failing = try RecordingHTTPServer(status: 500, directory: dir)
        let unreachable = "http://127.0.0.1:\(try freeLoopbackPort())"
        let secrets = ["pw-v1-s3cr3t", "tok-v1-s3cr3t", "tok-v2-s3cr3t"]
        let v1 = "  version: 1\n  database: hpm\n  username: bob\n  password: \(secrets[0])\n  token: \(secrets[1])"
        let v2 = "  org: o\n  bucket: b\n  token: \(secrets[2])"
        var runs: [(SimulatorProcess, DaemonProcess, DaemonHarness)] = []
        for (index, (url, keys)) in [(unreachable, v1), ("http://127.0.0.1:\(failing.port)", v1), (unreachable, v2)].enumerated() {
            // One spool directory each: a state directory belongs to one daemon (it takes a lock there).
            let spoolDirectory = dir.file("spool-\(index)")
            try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
            runs.append(try Self.daemon(url: url, dir: dir, influxKeys: keys, spoolPath: spoolDirectory + "/spool.db"))
        }
        for (_, daemon, _) in runs {
            _ = try await DaemonHarness.waitFor(daemon, "failed writes logged") { ($0.value("hpmanager_influx_write_failures_total") ?? 0) >= 2 }
            daemon.process.stop()
        }
        for (_, daemon, _) in runs {
            #expect(daemon.log.contains("InfluxDB write failed"))
            for secret in secrets { #expect(!daemon.log.contains(secret), "\(secret) logged:\n\(daemon.log.suffix(2000))") }
        }
        // The v1 credentials still reach the server, in the Authorization header only.
        let request = try #require(failing.requests().first)
        #expect(!((request["path"] as? String) ?? "").contains("s3cr3t"))
        let basic = "Basic " + Data("bob:\(secrets[0])".utf8).base64EncodedString()
        #expect((request["headers"] as? [String: String])?["Authorization"] == basic)
    }

    static var canMountTmpfs: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/bin/mount") }

    @Test("a full disk under the spool: the points that could not be spooled are counted in hpmanager_sink_dropped_total",
          .enabled(if: canMountTmpfs, "needs root to mount a small tmpfs"))
    func diskFull() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-full")
        let mountPoint = dir.file("small")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=192k", "tmpfs", mountPoint]) == 0)
        defer { _ = try? Self.run("/bin/umount", ["-l", mountPoint]) }
        let server = try RecordingHTTPServer(status: 503, directory: dir)
        let (sim, daemon, harness) = try Self.daemon(url: "http://127.0.0.1:\(server.port)", dir: dir,
                                                     influxKeys: "  org: o\n  bucket: b", spoolPath: mountPoint + "/spool.db")
        defer { withExtendedLifetime((sim, harness)) {} }
        _ = try await DaemonHarness.waitFor(daemon, "points spooled") { ($0.value("hpmanager_influx_spooled_points") ?? 0) > 0 }
        // Fill the rest of the file system.
        _ = try? Self.run("/bin/dd", ["if=/dev/zero", "of=\(mountPoint)/filler", "bs=4096", "count=1000"])
        let m = try await DaemonHarness.waitFor(daemon, "drops counted", timeout: 15) { m in
            (m.value("hpmanager_influx_dropped_points_total", ["reason": "spool_write_error"]) ?? 0) > 0
        }
        #expect(daemon.log.contains("cannot spool points"))
        let writeErrors = m.value("hpmanager_influx_dropped_points_total", ["reason": "spool_write_error"]) ?? 0
        #expect((m.value("hpmanager_sink_dropped_total", ["sink": "influxdb"]) ?? 0) >= writeErrors, "disk-full drops are part of the sink's dropped total")
        daemon.process.stop()
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
