import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Fleet changes against the real daemon, its real control socket and a hand-edited SQLite file.
@Suite("Fleet changes through the daemon: one loop, damaged registries", .harnessThreads, .serialized)
struct FleetDaemonTests {
    /// Sends one request per client at once and returns every reply line.
    static func concurrently(_ socket: String, _ requests: [String]) throws -> [String] {
        let clients = try requests.map { _ in try UnixSocketClient(path: socket) }
        for (client, request) in zip(clients, requests) { client.send(request + "\n") }
        return clients.map { $0.readLine(timeout: 20) ?? "" }
    }

    static func addRequest(_ id: String, port: Int, unit: Int = 1, model: String = "nibe_s1155") -> String {
        #"{"cmd":"add","args":{"device":{"id":"\#(id)","model":"\#(model)","poll_interval":0.3,"modbus":{"host":"127.0.0.1","port":\#(port),"unit_id":\#(unit),"timeout":0.5}}}}"#
    }

    static func events(_ db: SQLiteDatabase, _ kind: String, _ id: String) throws -> Int {
        Int(try db.query("SELECT count(*) FROM events WHERE kind = ?1 AND heatpump_id = ?2", [.text(kind), .text(id)]).first?[0].int ?? -1)
    }

    static func list(_ socket: String) throws -> [[String: Any]] {
        let r = try ControlSocketTests.ctl(socket, ["list", "--json"])
        return (ControlSocketTests.json(r.1)["heatpumps"] as? [[String: Any]]) ?? []
    }

    @Test("20 concurrent socket adds of one id: one `added`, 19 `exists`; 20 removes: one `removed`; one event each; link released once")
    func concurrentAddsAndRemoves() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0:1,2"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: port, unit: 1)], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "y1 up") { DaemonHarness.up($0, "y1") == 1 }

        let adds = try Self.concurrently(harness.socketPath, Array(repeating: Self.addRequest("rt1", port: port, unit: 2), count: 20))
        #expect(adds.filter { $0.contains(#""added":"rt1""#) }.count == 1, "\(adds)")
        #expect(adds.filter { $0.contains(#""code":"exists""#) }.count == 19, "\(adds)")
        let link = "127.0.0.1:\(port)"
        _ = try await DaemonHarness.waitFor(daemon, "rt1 up, the gateway link shared by two devices") {
            DaemonHarness.up($0, "rt1") == 1 && $0.value("hpmanager_link_devices", ["link": link]) == 2
        }

        let removes = try Self.concurrently(harness.socketPath, Array(repeating: #"{"cmd":"remove","args":{"id":"rt1"}}"#, count: 20))
        #expect(removes.filter { $0.contains(#""removed":"rt1""#) }.count == 1, "\(removes)")
        #expect(removes.filter { $0.contains(#""code":"not_found""#) }.count == 19, "\(removes)")
        _ = try await DaemonHarness.waitFor(daemon, "rt1 gone, link kept for y1 alone") {
            !$0.has("heatpump_up", ["heatpump_id": "rt1"]) && $0.value("hpmanager_link_devices", ["link": link]) == 1 && DaemonHarness.up($0, "y1") == 1
        }
        #expect(daemon.process.stop() == 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        #expect(try Self.events(db, "device_added", "rt1") == 1)
        #expect(try Self.events(db, "device_removed", "rt1") == 1)
    }

    @Test("reloads (socket and SIGHUP) overlapping adds, removes, enables and disables from 40 clients: one actor and one link reference per running device, one event per change")
    func reloadStorm() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0:1-6", "--tcp", "nibe:0"])
        let (gateway, single) = (sim.ports[0], sim.ports[1])
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: gateway, unit: 1), .init(id: "y2", port: single)], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "y1, y2 up") { DaemonHarness.up($0, "y1") == 1 && DaemonHarness.up($0, "y2") == 1 }
        let first = try Self.concurrently(harness.socketPath, [Self.addRequest("rt6", port: gateway, unit: 6)])
        #expect(first.first?.contains(#""added":"rt6""#) == true)
        var requests: [String] = []
        for unit in 2...5 {
            requests += Array(repeating: Self.addRequest("rt\(unit)", port: gateway, unit: unit), count: 3)
        }
        requests += Array(repeating: #"{"cmd":"reload"}"#, count: 6)
        requests += Array(repeating: #"{"cmd":"disable","args":{"id":"y2"}}"#, count: 4)
        requests += Array(repeating: #"{"cmd":"remove","args":{"id":"rt6"}}"#, count: 4)
        requests += Array(repeating: #"{"cmd":"disable","args":{"id":"y1"}}"#, count: 2) + Array(repeating: #"{"cmd":"enable","args":{"id":"y1"}}"#, count: 2)
        requests.shuffle()
        let hups = Task(executorPreference: HarnessExecutor.shared) { for _ in 0..<5 { kill(daemon.process.pid, SIGHUP); usleep(20_000) } }
        let replies = try Self.concurrently(harness.socketPath, requests)
        await hups.value
        #expect(replies.allSatisfy { $0.contains(#""ok":true"#) || $0.contains(#""code":"exists""#) || $0.contains(#""code":"not_found""#) }, "\(replies)")
        for unit in 2...5 {
            #expect(replies.filter { $0.contains(#""added":"rt\#(unit)""#) }.count == 1, "rt\(unit) added once")
        }
        #expect(replies.filter { $0.contains(#""removed":"rt6""#) }.count == 1)
        // y1 ends enabled or disabled depending on which came last; read the final state from the daemon.
        let list = try Self.list(harness.socketPath)
        let running = Set(list.filter { $0["enabled"] as? Bool == true }.compactMap { $0["id"] as? String })
        #expect(running.isSuperset(of: ["rt2", "rt3", "rt4", "rt5"]) && !running.contains("y2") && !running.contains("rt6"))
        let onGateway = running.filter { $0 != "y2" }.count
        let m = try await DaemonHarness.waitFor(daemon, "every running device up, gateway link counts \(onGateway) devices") { m in
            running.allSatisfy { DaemonHarness.up(m, $0) == 1 } && m.value("hpmanager_link_devices", ["link": "127.0.0.1:\(gateway)"]) == Double(onGateway)
        }
        #expect(m.value("hpmanager_link_devices", ["link": "127.0.0.1:\(single)"]) == nil, "y2's link released (once: no underflow, no leak)")
        #expect(m.value("hpmanager_links") == 1)
        // One actor per device: the gateway serves each running unit at the poll rate of one actor.
        // The window is measured, not assumed: a loaded machine oversleeps, and more polls are then right.
        let before = try sim.portStats(gateway)
        let started = ContinuousClock.now
        try await Task.sleep(for: .seconds(1.5))
        let after = try sim.portStats(gateway)
        let window = (ContinuousClock.now - started) / .milliseconds(1) / 1000
        let polls = Double(after.requestsTotal - before.requestsTotal) / Double(try NIBEModelTests.requestsPerPoll()) / Double(onGateway)
        let expected = window / 0.3
        #expect(polls >= expected * 0.5 && polls <= expected * 1.3 + 1, "≈ \(expected) polls per device in \(window) s at 0.3 s, not twice that: \(polls)")

        #expect(daemon.process.stop() == 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        for unit in 2...5 { #expect(try Self.events(db, "device_added", "rt\(unit)") == 1) }
        #expect(try Self.events(db, "device_removed", "rt6") == 1)
        #expect(try Self.events(db, "device_disabled", "y2") == 4, "each successful disable recorded once")
        let reloadsOK = replies.filter { $0.contains(#""unchanged""#) }.count
        let applied = Int(try db.query("SELECT count(*) FROM events WHERE kind = 'config_applied'").first?[0].int ?? -1)
        let hupsHandled = daemon.log.components(separatedBy: "SIGHUP received").count - 1  // pending signals may coalesce
        #expect(hupsHandled >= 1)
        #expect(applied == reloadsOK + hupsHandled, "socket reloads + handled SIGHUPs, each recorded once")
    }

    static func state(_ m: PromMetrics, _ id: String, _ state: String) -> Double? {
        m.value("heatpump_state", ["heatpump_id": id, "state": state])
    }

    @Test("hand-damaged runtime rows (bad JSON, out-of-range timeout, unknown model, unreadable enabled) load as failed with their error; the rest run; fixable at runtime")
    func poisonedRuntimeRows() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: sim.ports[0])], interval: 0.3)
        var daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "y1 up") { DaemonHarness.up($0, "y1") == 1 }
        #expect(try ControlSocketTests.ctl(harness.socketPath, ["add", "--id", "good", "--model", "nibe_s1155", "--host", "127.0.0.1",
                                                                 "--port", "\(sim.ports[1])", "--poll-interval", "0.3"]).0 == 0)
        #expect(daemon.process.stop() == 0)

        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let spec = { (id: String, model: String, timeout: String) in
            #"{"id":"\#(id)","model":"\#(model)","modbus":{"host":"127.0.0.1","port":\#(sim.ports[1]),"timeout":\#(timeout)}}"#
        }
        let rows: [(String, String, SQLiteValue)] = [
            ("bad_json", "{not json", .integer(1)),
            ("bad_timeout", spec("bad_timeout", "nibe_s1155", "1e300"), .integer(1)),
            ("bad_model", spec("bad_model", "no_such_model", "0.5"), .integer(1)),
            ("bad_enabled", spec("bad_enabled", "nibe_s1155", "0.5"), .text("yes please")),
        ]
        for (id, config, enabled) in rows {
            try db.run("""
                INSERT INTO heatpumps (id, name, location, manufacturer, model, connection, config, enabled, created_at, updated_at)
                VALUES (?1, ?1, 'Lab', 'NIBE', 'nibe_s1155', '{}', ?2, ?3, 0, 0)
                """, [.text(id), .text(config), enabled])
        }

        daemon = try harness.start()
        let broken = rows.map(\.0)
        let m = try await DaemonHarness.waitFor(daemon, "good devices up, damaged ones failed") { m in
            DaemonHarness.up(m, "y1") == 1 && DaemonHarness.up(m, "good") == 1
                && broken.allSatisfy { DaemonHarness.up(m, $0) == 0 && Self.state(m, $0, "failed") == 1 }
        }
        #expect(m.value("hpmanager_devices", ["state": "failed"]) == 4)
        let list = try Self.list(harness.socketPath)
        for id in broken {
            let row = list.first { $0["id"] as? String == id }
            #expect(row?["state"] as? String == "failed" && row?["source"] as? String == "runtime", "\(id): \(row ?? [:])")
            let error = row?["last_error"] as? String ?? ""
            #expect(!error.isEmpty, "\(id) shows its error")
        }
        #expect((list.first { $0["id"] as? String == "bad_model" }?["last_error"] as? String)?.contains("no_such_model") == true)
        #expect((list.first { $0["id"] as? String == "bad_timeout" }?["last_error"] as? String)?.contains("timeout") == true)
        var r = try ControlSocketTests.ctl(harness.socketPath, ["status", "--json", "bad_enabled"])
        #expect(r.0 == 0 && r.1.contains("enabled flag"), "\(r.1)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["read", "bad_json"])
        #expect(r.0 == 1 && r.2.contains("failed"))

        // Fixable at runtime: remove one, update another.
        #expect(try ControlSocketTests.ctl(harness.socketPath, ["remove", "bad_json"]).0 == 0)
        r = try ControlSocketTests.ctl(harness.socketPath, ["update", "bad_model", "--id", "bad_model", "--model", "nibe_s1155", "--host", "127.0.0.1",
                                                            "--port", "\(sim.ports[1])", "--poll-interval", "0.3"])
        #expect(r.0 == 0, "\(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "bad_json gone, bad_model fixed and up") {
            !$0.has("heatpump_up", ["heatpump_id": "bad_json"]) && DaemonHarness.up($0, "bad_model") == 1 && DaemonHarness.up($0, "good") == 1
        }
        #expect(daemon.process.isRunning)
    }

    @Test("overrides that cannot be read keep disabled devices disabled: an unreadable value stays off, an unreadable table fails reload (nothing changes) and start (exit 73)")
    func poisonedOverrides() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: sim.ports[0]), .init(id: "y2", port: sim.ports[1])], interval: 0.3)
        var daemon = try harness.start()
        let s = harness.socketPath
        _ = try await DaemonHarness.waitFor(daemon, "y1, y2 up") { DaemonHarness.up($0, "y1") == 1 && DaemonHarness.up($0, "y2") == 1 }
        #expect(try ControlSocketTests.ctl(s, ["disable", "y2"]).0 == 0)
        _ = try await DaemonHarness.waitFor(daemon, "y2 stopped") { !$0.has("heatpump_up", ["heatpump_id": "y2"]) }

        let db = try SQLiteDatabase(path: harness.files.databasePath)
        try db.run("UPDATE overrides SET enabled = 'maybe' WHERE heatpump_id = 'y2'")
        var r = try ControlSocketTests.ctl(s, ["reload"])
        #expect(r.0 == 0, "\(r.2)")
        try db.run("ALTER TABLE overrides RENAME COLUMN enabled TO was_enabled")
        r = try ControlSocketTests.ctl(s, ["reload"])
        #expect(r.0 == 1 && r.2.contains("store_failed") && r.2.contains("overrides"), "\(r.2)")
        let accepted = try sim.portStats(sim.ports[1]).connectionsAccepted
        try await Task.sleep(for: .seconds(0.8))
        let m = try #require(daemon.metrics())
        #expect(!m.has("heatpump_up", ["heatpump_id": "y2"]) && DaemonHarness.up(m, "y1") == 1)
        #expect(m.value("hpmanager_config_last_reload_successful") == 0)
        #expect(try sim.portStats(sim.ports[1]).connectionsAccepted == accepted, "y2 never reconnected")
        #expect(daemon.process.stop() == 0)

        daemon = try harness.start()
        #expect(daemon.process.waitForExit(timeout: 15) == 73, "refuses to start rather than guess which devices were disabled")
        #expect(daemon.log.contains("overrides"))
    }

    @Test("add answers `added` only once the device is stored and reads back: a refused write or a row that does not read back is an error and nothing runs")
    func addNeedsDurableStore() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start()
        let s = harness.socketPath
        _ = try await DaemonHarness.waitFor(daemon, "y1 up") { DaemonHarness.up($0, "y1") == 1 }
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let add = ["add", "--id", "rt1", "--model", "nibe_s1155", "--host", "127.0.0.1", "--port", "\(sim.ports[1])", "--poll-interval", "0.3"]

        try db.run("CREATE TRIGGER refuse BEFORE INSERT ON heatpumps BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        var r = try ControlSocketTests.ctl(s, add)
        #expect(r.0 == 1 && r.2.contains("store_failed") && r.2.contains("disk is full"), "\(r.1) \(r.2)")
        try db.run("DROP TRIGGER refuse")
        // A store that accepts the write but keeps something else (damaged page, hand-edited trigger).
        try db.run("CREATE TRIGGER mangle AFTER INSERT ON heatpumps BEGIN UPDATE heatpumps SET config = '{garbage' WHERE id = NEW.id; END")
        r = try ControlSocketTests.ctl(s, add)
        #expect(r.0 == 1 && r.2.contains("store_failed"), "\(r.1) \(r.2)")
        #expect(try db.query("SELECT count(*) FROM heatpumps").first?[0].int == 0, "the row that did not read back was rolled back")

        try await Task.sleep(for: .seconds(0.6))
        #expect(!(try Self.list(s)).contains { $0["id"] as? String == "rt1" })
        #expect(!(try #require(daemon.metrics())).has("heatpump_up", ["heatpump_id": "rt1"]))
        #expect(try sim.portStats(sim.ports[1]).connectionsAccepted == 0, "rt1 never polled")
        try db.run("DROP TRIGGER mangle")
        r = try ControlSocketTests.ctl(s, add)
        #expect(r.0 == 0, "works again once the store does: \(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "rt1 up") { DaemonHarness.up($0, "rt1") == 1 }
        #expect(daemon.process.stop() == 0)
        #expect(try Self.events(db, "device_added", "rt1") == 1)
    }

    @Test("a write that reached the device answers ok even when its audit row is refused (audited: false, logged), so nobody retries a done write")
    func auditFailureIsNotAWriteFailure() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "y1 up") { DaemonHarness.up($0, "y1") == 1 }
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        try db.run("CREATE TRIGGER refuse BEFORE INSERT ON write_audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
        let r = try ControlSocketTests.ctl(harness.socketPath, ["write", "--json", "y1", "climate_system_1.room_setpoint", "22.5"])
        #expect(r.0 == 0, "\(r.1) \(r.2)")
        #expect(ControlSocketTests.json(r.1)["audited"] as? Bool == false && ControlSocketTests.json(r.1)["verified"] as? Bool == true)
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 206")["value"] as? Int == 225)
        #expect(daemon.log.contains("write audit not stored"))
    }
}
