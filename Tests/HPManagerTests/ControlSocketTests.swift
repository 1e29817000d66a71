import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The real daemon, real hpsim and the real control socket, driven through `hpmanagerctl`.
@Suite("Control socket and hpmanagerctl", .harnessThreads, .serialized)
struct ControlSocketTests {
    /// Runs hpmanagerctl; returns (exit status, stdout, stderr).
    /// - Parameter prefix: parent commands of a nested subcommand (`["jobs"]` for `jobs add`).
    static func ctl(_ socket: String, _ args: [String], asUser user: String? = nil, prefix: [String] = []) throws -> (Int32, String, String) {
        let binary = try Products.path("hpmanagerctl")
        // Options belong to the subcommand: `hpmanagerctl SUBCOMMAND --socket PATH …`.
        let full = prefix + Array(args.prefix(1)) + ["--socket", socket] + args.dropFirst()
        let process = try user.map { try ManagedProcess(executable: "/usr/sbin/runuser", arguments: ["-u", $0, "--", binary] + full) }
            ?? ManagedProcess(executable: binary, arguments: full)
        let status = process.waitForExit(timeout: 30) ?? -1
        _ = process.stdout.nextLine(timeout: 0.2)
        usleep(50_000)
        return (status, process.stdout.transcript.joined(separator: "\n"), process.stderr.transcript.joined(separator: "\n"))
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    @Test("add → polled; disable → stopped and series gone; enable → resumes; write → hpsim changed, read back, audited; remove; persistence across restarts")
    func lifecycle() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "yaml1", port: sim.ports[0])], interval: 0.3)
        var daemon = try harness.start()
        let s = harness.socketPath
        _ = try await DaemonHarness.waitFor(daemon, "yaml1 up") { DaemonHarness.up($0, "yaml1") == 1 }

        var r = try Self.ctl(s, ["add", "--id", "rt1", "--model", "nibe_s1155", "--host", "127.0.0.1", "--port", "\(sim.ports[1])", "--poll-interval", "0.3", "--name", "Runtime one"])
        #expect(r.0 == 0, "\(r.2)")
        let added = Date()
        _ = try await DaemonHarness.waitFor(daemon, "rt1 polled") { DaemonHarness.up($0, "rt1") == 1 && $0.has("heatpump_brine_in_temp", ["heatpump_id": "rt1"]) }
        #expect(Date().timeIntervalSince(added) < 0.3 + 0.2 + 0.5, "in the metrics file within one interval")

        r = try Self.ctl(s, ["status", "--json", "rt1"])
        let status = (Self.json(r.1)["heatpumps"] as? [[String: Any]])?.first
        let nibeRequests = try NIBEModelTests.requestsPerPoll()
        #expect(status?["source"] as? String == "runtime" && status?["state"] as? String == "polling" && status?["requests_per_poll"] as? Double == Double(nibeRequests))

        r = try Self.ctl(s, ["disable", "rt1"])
        #expect(r.0 == 0)
        _ = try await DaemonHarness.waitFor(daemon, "rt1 series gone") { !$0.has("heatpump_up", ["heatpump_id": "rt1"]) }
        let before = try sim.portStats(sim.ports[1]).requestsTotal
        try await Task.sleep(for: .seconds(0.8))
        #expect(try sim.portStats(sim.ports[1]).requestsTotal == before, "no polling while disabled")
        #expect(try sim.portStats(sim.ports[1]).connectionsOpen == 0)

        r = try Self.ctl(s, ["enable", "rt1"])
        #expect(r.0 == 0)
        _ = try await DaemonHarness.waitFor(daemon, "rt1 back") { DaemonHarness.up($0, "rt1") == 1 }

        r = try Self.ctl(s, ["write", "rt1", "climate_system_1.room_setpoint", "22.5"])
        #expect(r.0 == 0, "\(r.1) \(r.2)")
        #expect(r.1.contains("verified"))
        #expect(try sim.command("get \(sim.ports[1]) 1 holding 206")["value"] as? Int == 225, "hpsim register changed")
        r = try Self.ctl(s, ["write", "rt1", "climate_system_1.room_setpoint", "99"])
        #expect(r.0 == 1 && r.2.contains("above the maximum"), "validated against max")
        r = try Self.ctl(s, ["write", "rt1", "brine_in_temp", "5"])
        #expect(r.0 == 1 && r.2.contains("read-only"))
        r = try Self.ctl(s, ["read", "--json", "rt1", "climate_system_1.room_setpoint"])
        #expect(((Self.json(r.1)["values"] as? [[String: Any]])?.first?["value"] as? Double) == 22.5)

        r = try Self.ctl(s, ["update", "yaml1", "--id", "yaml1", "--model", "nibe_s1155", "--host", "127.0.0.1"])
        #expect(r.0 == 1 && r.2.contains("defined_in_file"))
        r = try Self.ctl(s, ["disable", "yaml1"])
        #expect(r.0 == 0)
        r = try Self.ctl(s, ["add", "--id", "rt2", "--model", "nibe_s1155", "--host", "127.0.0.1", "--port", "\(sim.ports[2])", "--poll-interval", "0.3"])
        #expect(r.0 == 0)
        r = try Self.ctl(s, ["remove", "rt1"])
        #expect(r.0 == 0)
        _ = try await DaemonHarness.waitFor(daemon, "rt1 removed, rt2 polled, yaml1 disabled") {
            !$0.has("heatpump_up", ["heatpump_id": "rt1"]) && DaemonHarness.up($0, "rt2") == 1 && !$0.has("heatpump_up", ["heatpump_id": "yaml1"])
        }

        // Restart: runtime devices and overrides persist; removed ones stay removed.
        #expect(daemon.process.stop() == 0)
        daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "rt2 after restart") { DaemonHarness.up($0, "rt2") == 1 }
        try await Task.sleep(for: .seconds(0.6))
        let m = try #require(daemon.metrics())
        #expect(!m.has("heatpump_up", ["heatpump_id": "rt1"]) && !m.has("heatpump_up", ["heatpump_id": "yaml1"]))
        r = try Self.ctl(s, ["list", "--json"])
        let list = (Self.json(r.1)["heatpumps"] as? [[String: Any]]) ?? []
        #expect(list.map { $0["id"] as? String ?? "" }.sorted() == ["rt2", "yaml1"])
        #expect(list.first { $0["id"] as? String == "yaml1" }?["state"] as? String == "disabled")
        daemon.process.stop()

        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let audit = try db.query("SELECT heatpump_id, register, requested, previous, read_back, result FROM write_audit ORDER BY id")
        #expect(audit.count == 3)
        #expect(audit.first.map { [$0[0].string, $0[1].string, $0[2].string, $0[4].string, $0[5].string] } == ["rt1", "climate_system_1.room_setpoint", "22.5", "22.5", "ok"])
        #expect(audit.dropFirst().allSatisfy { $0[5].string == "rejected" })
    }

    @Test("hpmanagerctl: helpful errors and exit codes; an unprivileged user cannot connect with the default mode")
    func errorsAndPermissions() async throws {
        let missing = try Self.ctl("/tmp/hpm-no-such-daemon.sock", ["list"])
        #expect(missing.0 == 69 && missing.2.contains("not running"))
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])])
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "a up") { DaemonHarness.up($0, "a") == 1 }
        let attributes = try FileManager.default.attributesOfItem(atPath: harness.socketPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o660)
        // The binary must be runnable by nobody for the test to mean anything.
        let copy = try TemporaryDirectory(prefix: "hpm-ctl")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: copy.path)
        try FileManager.default.copyItem(atPath: try Products.path("hpmanagerctl"), toPath: copy.file("hpmanagerctl"))
        let nobody = try ManagedProcess(executable: "/usr/sbin/runuser", arguments: ["-u", "nobody", "--", copy.file("hpmanagerctl"), "list", "--socket", harness.socketPath])
        let status = nobody.waitForExit(timeout: 20)
        usleep(100_000)
        #expect(status == 77, "nobody: \(nobody.stderr.transcript)")
        #expect(nobody.stderr.transcript.joined().contains("permission denied"))
        let bad = try Self.ctl(harness.socketPath, ["status", "nope"])
        #expect(bad.0 == 1 && bad.2.contains("not_found"))
        let second = try DaemonProcess(configDir: harness.dir.path, metricsPath: harness.dir.file("other.prom"))
        #expect(second.process.waitForExit(timeout: 10) == 75, "a second daemon on the same socket refuses to start")
        #expect(second.log.contains("is already running on state directory"), "the state-directory lock stops it first")
    }

    @Test("garbage, huge lines, half-open connections and 500 concurrent clients: error replies, no crash, polling on time, no leaked descriptors")
    func robustness() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "a up") { DaemonHarness.up($0, "a") == 1 }
        let s = harness.socketPath
        try await Task.sleep(for: .seconds(0.5))
        let fdsBefore = openFileDescriptors(pid: daemon.process.pid)

        var c = try UnixSocketClient(path: s)
        c.send([0xFF, 0xFE, 0x00, 0x41, 0x0A])  // invalid UTF-8
        #expect(c.readLine(timeout: 5)?.contains("invalid_utf8") == true)
        c.send("}{ not json\n")
        #expect(c.readLine(timeout: 5)?.contains("bad_request") == true)
        c.send("{\"v\":9,\"cmd\":\"ping\"}\n")
        #expect(c.readLine(timeout: 5)?.contains("unsupported_version") == true)
        c.send("{\"cmd\":\"ping\",\"id\":\"abc\"}\n")
        let pong = c.readLine(timeout: 5) ?? ""
        #expect(pong.contains("\"ok\":true") && pong.contains("\"id\":\"abc\""), "request id echoed")

        c = try UnixSocketClient(path: s)
        c.send([UInt8](repeating: UInt8(ascii: "x"), count: 1_000_000))
        #expect(c.readLine(timeout: 5)?.contains("request_too_large") == true)
        #expect(c.closedByPeer(timeout: 5))

        var halfOpen: [UnixSocketClient] = []
        for _ in 0..<20 {
            let h = try UnixSocketClient(path: s)
            h.send("{\"cmd\":\"pi")
            halfOpen.append(h)
        }
        var clients: [UnixSocketClient] = []
        for _ in 0..<500 { clients.append(try UnixSocketClient(path: s)) }
        for client in clients { client.send("{\"cmd\":\"ping\"}\n") }
        var ok = 0, busy = 0
        for client in clients {
            guard let line = client.readLine(timeout: 10) else { continue }
            if line.contains("\"ok\":true") { ok += 1 } else if line.contains("busy") { busy += 1 }
        }
        #expect(ok + busy == 500, "every client got an answer: ok \(ok), busy \(busy)")
        #expect(ok >= 100)
        clients.removeAll()
        #expect(halfOpen.allSatisfy { $0.closedByPeer(timeout: 5) }, "idle half-open connections are closed")
        halfOpen.removeAll()

        // Still answering, still polling on time.
        let m1 = try #require(daemon.metrics())
        let t1 = try #require(DaemonHarness.lastSuccess(m1, "a"))
        _ = try await DaemonHarness.waitFor(daemon, "polling continues") { (DaemonHarness.lastSuccess($0, "a") ?? 0) >= t1 + 0.5 }
        #expect(try Self.ctl(s, ["list"]).0 == 0)
        #expect(daemon.process.isRunning)
        let fdsAfter = try await eventually("descriptors back to baseline", timeout: 10) { () -> Int? in
            let n = openFileDescriptors(pid: daemon.process.pid)
            return n <= fdsBefore + 2 ? n : nil
        }
        #expect(fdsAfter <= fdsBefore + 2, "fds before \(fdsBefore), after \(fdsAfter)")
    }

    @Test("test, models, reload, events, history and alerts through hpmanagerctl")
    func queries() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "daikin:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start()
        let s = harness.socketPath
        _ = try await DaemonHarness.waitFor(daemon, "a polled a few times") { ($0.value("heatpump_polls_total", ["heatpump_id": "a"]) ?? 0) >= 3 }

        var r = try Self.ctl(s, ["test", "--json", "--id", "probe", "--model", "daikin_altherma", "--host", "127.0.0.1", "--port", "\(sim.ports[1])"])
        #expect(r.0 == 0, "\(r.2)")
        let values = (Self.json(r.1)["values"] as? [[String: Any]]) ?? []
        #expect(values.contains { $0["register"] as? String == "flow_rate" && $0["value"] as? Double == 21.5 })
        #expect(Self.json(r.1)["requests"] as? Double == Double(try LuxtronikDaikinModelTests.requestsPerPoll("daikin_altherma")), "holdings 1-13 and 53-67, inputs 21-61")
        r = try Self.ctl(s, ["test", "--id", "probe", "--model", "daikin_altherma", "--host", "127.0.0.1", "--port", "\(try freeLoopbackPort())"])
        #expect(r.0 == 1 && r.2.contains("device_error"))
        r = try Self.ctl(s, ["list", "--json"])
        #expect(((Self.json(r.1)["heatpumps"] as? [[String: Any]]) ?? []).count == 1, "test adds nothing")

        r = try Self.ctl(s, ["models"])
        #expect(r.0 == 0 && r.1.contains("idm_navigator_2") && r.1.contains("builtin"))

        r = try Self.ctl(s, ["reload", "--json"])
        #expect(r.0 == 0 && (Self.json(r.1)["unchanged"] as? Double) == 1)
        try harness.dir.write("heatpumps.yml", "heatpumps:\n  - {id: a, model: nope, modbus: {host: 127.0.0.1}}\n")
        r = try Self.ctl(s, ["reload"])
        #expect(r.0 == 1 && r.2.contains("config_invalid") && r.2.contains("unknown model"))

        r = try Self.ctl(s, ["events", "--json", "a"])
        let kinds = ((Self.json(r.1)["events"] as? [[String: Any]]) ?? []).compactMap { $0["kind"] as? String }
        #expect(kinds.contains("device_up"))
        r = try Self.ctl(s, ["events", "--json"])
        #expect(((Self.json(r.1)["events"] as? [[String: Any]]) ?? []).contains { $0["kind"] as? String == "config_rejected" })

        r = try Self.ctl(s, ["history", "--json", "a", "brine_in_temp"])
        let points = (Self.json(r.1)["points"] as? [[Double]]) ?? []
        #expect(points.count >= 3 && points.allSatisfy { $0.count == 2 && $0[1] == 2.1 })
        r = try Self.ctl(s, ["history", "a", "brine_in_temp"])
        #expect(r.0 == 0 && r.1.contains("BRINE_IN_TEMP"))

        r = try Self.ctl(s, ["alerts", "--json"])
        #expect(r.0 == 0 && ((Self.json(r.1)["alerts"] as? [Any]) ?? [1]).isEmpty)
    }
}
