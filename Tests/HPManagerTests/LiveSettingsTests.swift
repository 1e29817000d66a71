import ControlProtocol
import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Live settings (`PUT /api/settings`, `hpmanagerctl settings`) against the real daemon, hpsim over
/// TCP, the real SQLite store, the control socket and a real influxd.
@Suite("Live settings: poll interval, InfluxDB, alert rules; persistence, reload, audit, roles", .harnessThreads, .serialized)
struct LiveSettingsTests {
    /// `a` follows collector.poll_interval, `b` has its own.
    static func devices(_ sim: SimulatorProcess) -> String {
        """
        heatpumps:
          - id: a
            model: nibe_s1155
            modbus: {type: tcp, host: 127.0.0.1, port: \(sim.ports[0]), unit_id: 1, timeout: 0.5, retries: 0}
          - id: b
            model: nibe_s1155
            poll_interval: 0.3
            modbus: {type: tcp, host: 127.0.0.1, port: \(sim.ports[1]), unit_id: 1, timeout: 0.5, retries: 0}

        """
    }

    static func settings(_ api: HTTPAPIClient) throws -> [String: Any] { try api.get("/api/settings").object }
    static func section(_ s: [String: Any], _ name: String) -> [String: Any] { s[name] as? [String: Any] ?? [:] }
    static func pollInterval(_ api: HTTPAPIClient, _ id: String) throws -> Double? {
        try api.get("/api/heatpumps/\(id)").object["poll_interval"] as? Double
    }
    static func field(_ reply: HTTPAPIClient.Reply) -> String? { (reply.object["error"] as? [String: Any])?["field"] as? String }

    @Test("poll interval: admin only, applied to the devices that follow the default (the others keep running), atomic with clear errors, audited, kept across a restart, superseded by a later edit of collector.yml")
    func pollInterval() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let port = try freeLoopbackPort()
        let viewerToken = APITokenHash.newToken(), operatorToken = APITokenHash.newToken(), adminToken = APITokenHash.newToken()
        let harness = try DaemonHarness(devices: [], interval: 0.3, extraSections: """
        http:
          listen: 127.0.0.1:\(port)
          tokens:
            - {name: grafana, role: viewer, hash: "\(APITokenHash.hash(viewerToken))"}
            - {name: ops, role: operator, hash: "\(APITokenHash.hash(operatorToken))"}
            - {name: root, role: admin, hash: "\(APITokenHash.hash(adminToken))"}
        alerts:
          - {name: cold_room, register: climate_system_1.room_setpoint, below: -100}
        """)
        try harness.dir.write("heatpumps.yml", Self.devices(sim))
        var daemon = try harness.start()
        let viewer = HTTPAPIClient(base: "http://127.0.0.1:\(port)", token: viewerToken)
        let ops = HTTPAPIClient(base: viewer.base, token: operatorToken)
        let admin = HTTPAPIClient(base: viewer.base, token: adminToken)
        try await HTTPAPITests.waitForAPI(admin, daemon)
        _ = try await DaemonHarness.waitFor(daemon, "a and b up") { DaemonHarness.up($0, "a") == 1 && DaemonHarness.up($0, "b") == 1 }

        var s = try Self.settings(viewer)
        #expect(Self.section(s, "collector")["poll_interval"] as? Double == 0.3)
        #expect(Self.section(s, "sources")["collector.poll_interval"] as? String == "collector.yml", "\(s)")
        #expect((s["live"] as? [String])?.contains("alerts") == true && (s["live"] as? [String])?.contains("influxdb.url") == false,
                "InfluxDB is off in collector.yml: its keys are not live")

        // Roles: viewers and operators may read, only an admin may change.
        let change = #"{"collector":{"poll_interval":1}}"#
        let byViewer = try viewer.call("PUT", "/api/settings", json: change)
        #expect(byViewer.status == 403 && byViewer.errorCode == "forbidden", "\(byViewer.body)")
        let byOperator = try ops.call("PUT", "/api/settings", json: change)
        #expect(byOperator.status == 403 && byOperator.body.contains("admin"), "\(byOperator.body)")
        #expect(try Self.pollInterval(viewer, "a") == 0.3)

        let applied = try admin.call("PUT", "/api/settings", json: change)
        #expect(applied.status == 200 && applied.object["changed"] as? [String] == ["collector.poll_interval"], "\(applied.body)")
        s = try Self.settings(viewer)
        #expect(Self.section(s, "collector")["poll_interval"] as? Double == 1)
        #expect(Self.section(s, "sources")["collector.poll_interval"] as? String == "runtime")
        let override = Self.section(Self.section(s, "overrides"), "collector.poll_interval")
        #expect(override["file_value"] as? Double == 0.3 && override["changed_by"] as? String == "http:root (admin)", "\(s)")
        #expect(try Self.pollInterval(viewer, "a") == 1, "a follows the default")
        #expect(try Self.pollInterval(viewer, "b") == 0.3, "b keeps its own interval")
        #expect(daemon.log.contains("added=0 changed=1 removed=0 unchanged=1"), "only a was restarted, b kept running")
        let unchanged = try admin.call("PUT", "/api/settings", json: try admin.get("/api/settings").body)
        #expect(unchanged.status == 200 && unchanged.object["changed"] as? [String] == [], "the GET body PUTs back as no change: \(unchanged.body)")

        // Bad input: code and field, and nothing changes (a good key beside a bad one is not applied).
        let badCases: [(String, Int, String, String)] = [
            (#"{"collector":{"poll_interval":2,"batch_size":0}}"#, 422, "out_of_range", "collector.batch_size"),
            (#"{"collector":{"poll_interval":2,"batch_size":1e300}}"#, 422, "out_of_range", "collector.batch_size"),
            (#"{"collector":{"poll_interval":"fast"}}"#, 400, "bad_request", "collector.poll_interval"),
            (#"{"collector":{"poll_interval":0}}"#, 422, "out_of_range", "collector.poll_interval"),
            (#"{"collector":{"poll_interval":2},"http":{"listen":"0.0.0.0:1"}}"#, 409, "not_live", "http.listen"),
            (#"{"collector":{"poll_interval":2},"influxdb":{"url":"http://127.0.0.1:1"}}"#, 409, "not_live", "influxdb.url"),
            (#"{"collector":{"poll_interval":2},"alerts":[{"name":"x"}]}"#, 400, "bad_request", "alerts"),
            (#"{"collector":{"poll_interval":2,"max_gap":3}}"#, 400, "bad_request", "collector.max_gap"),
        ]
        for (body, status, code, field) in badCases {
            let reply = try admin.call("PUT", "/api/settings", json: body)
            #expect(reply.status == status && reply.errorCode == code && Self.field(reply) == field && reply.body.contains(field),
                    "\(body) → \(reply.status) \(reply.body)")
        }
        #expect(try Self.pollInterval(viewer, "a") == 1, "nothing of a refused change was applied")

        // Alert rules apply live: a rule that holds raises an alert at the next poll; removing it resolves it.
        let rule = #"{"alerts":[{"name":"warm_room","register":"climate_system_1.room_setpoint","above":-100,"severity":"critical"}]}"#
        let rules = try admin.call("PUT", "/api/settings", json: rule)
        #expect(rules.status == 200 && rules.object["changed"] as? [String] == ["alerts"], "\(rules.body)")
        _ = try await eventually("warm_room raised", timeout: 10) { () -> Bool? in
            let alerts = (try? viewer.get("/api/alerts?active=true"))?.object["alerts"] as? [[String: Any]] ?? []
            return alerts.contains { $0["rule"] as? String == "warm_room" && $0["heatpump_id"] as? String == "a" } ? true : nil
        }
        #expect(try admin.call("PUT", "/api/settings", json: #"{"alerts":null}"#).status == 200, "back to collector.yml's rules")
        _ = try await eventually("warm_room resolved", timeout: 10) { () -> Bool? in
            let alerts = (try? viewer.get("/api/alerts?active=true"))?.object["alerts"] as? [[String: Any]] ?? []
            return alerts.contains { $0["rule"] as? String == "warm_room" } ? nil : true
        }
        let rulesNow = try Self.settings(viewer)["alerts"] as? [[String: Any]]
        #expect(rulesNow?.map { $0["name"] as? String } == ["cold_room"])

        // Restart: the override is kept; a SIGHUP of an unchanged collector.yml keeps it too.
        #expect(daemon.process.stop() == 0)
        daemon = try harness.start()
        try await HTTPAPITests.waitForAPI(admin, daemon)
        s = try Self.settings(viewer)
        #expect(Self.section(s, "collector")["poll_interval"] as? Double == 1 && Self.section(s, "sources")["collector.poll_interval"] as? String == "runtime",
                "kept across a restart: \(s)")
        #expect(try Self.pollInterval(viewer, "a") == 1)
        var r = try ControlSocketTests.ctl(harness.socketPath, ["reload"])
        #expect(r.0 == 0, "\(r.2)")
        #expect(Self.section(try Self.settings(viewer), "sources")["collector.poll_interval"] as? String == "runtime")

        // hpmanagerctl speaks the same operation.
        r = try ControlSocketTests.ctl(harness.socketPath, ["settings", "set", "collector.poll_interval=2"])
        #expect(r.0 == 0 && r.1.contains("changed: collector.poll_interval"), "\(r.1) \(r.2)")
        #expect(try Self.pollInterval(viewer, "a") == 2)
        r = try ControlSocketTests.ctl(harness.socketPath, ["settings", "set", "collector.poll_interval=-1"])
        #expect(r.0 == 1 && r.2.contains("[out_of_range]") && r.2.contains("collector.poll_interval"), "\(r.1) \(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["settings", "get"])
        #expect(r.0 == 0 && r.1.contains("collector.poll_interval") && r.1.contains("runtime"), "\(r.1) \(r.2)")

        // A later edit of the same key in collector.yml wins at the next reload.
        let collector = try String(contentsOfFile: harness.dir.file("collector.yml"), encoding: .utf8)
        try harness.dir.write("collector.yml", collector.replacingOccurrences(of: "poll_interval: 0.3", with: "poll_interval: 0.4"))
        r = try ControlSocketTests.ctl(harness.socketPath, ["reload"])
        #expect(r.0 == 0, "\(r.2)")
        s = try Self.settings(viewer)
        #expect(Self.section(s, "collector")["poll_interval"] as? Double == 0.4 && Self.section(s, "sources")["collector.poll_interval"] as? String == "collector.yml",
                "the edit of collector.yml wins: \(s)")
        #expect(try Self.pollInterval(viewer, "a") == 0.4)
        #expect(daemon.process.stop() == 0)

        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let audit = try db.query("SELECT client, key, old, new, source FROM settings_audit ORDER BY id").map { $0.map { $0.string ?? "" } }
        #expect(audit.first == ["http:root (admin)", "collector.poll_interval", "0.3", "1", "runtime"], "\(audit)")
        #expect(audit.contains { $0[0].hasPrefix("hpmanagerctl") && $0[1] == "collector.poll_interval" && $0[2] == "1" && $0[3] == "2" }, "\(audit)")
        #expect(audit.last == ["collector.yml", "collector.poll_interval", "2", "0.4", "collector.yml"], "\(audit)")
        #expect(audit.filter { $0[1] == "alerts" }.count == 2, "the rule added and removed: \(audit)")
        #expect(try db.query("SELECT COUNT(*) FROM settings").first?[0].int == 0)
        #expect(!daemon.log.contains(adminToken))
    }

    @Test("InfluxDB: url, database, batching and token_file change live; the spool written before the change reaches the new destination; every point arrives once; the token is never echoed")
    func influxSwap() async throws {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE hpm")
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = try freeLoopbackPort()
        let dead = try freeLoopbackPort()
        // Nothing listens on `dead`: every poll before the change is spooled (with a long retry backoff).
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.2,
                                        collectorKeys: "  batch_size: 5\n  batch_interval: 0.05", extraSections: """
        http:
          listen: 127.0.0.1:\(port)
        influxdb:
          url: http://127.0.0.1:\(dead)
          version: 1
          database: old
          retry_interval: 60
        """)
        let token = "secret-\(APITokenHash.newToken())"
        try harness.dir.write("influx.token", token + "\n")
        let daemon = try harness.start()
        let api = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        try await HTTPAPITests.waitForAPI(api, daemon)
        _ = try await DaemonHarness.waitFor(daemon, "10 polls spooled", timeout: 15) {
            ($0.value("hpmanager_influx_spooled_points") ?? 0) >= Double(10 * InfluxTests.pointsPerPoll("nibe_s1155"))
        }
        let changedAt = Date().timeIntervalSince1970

        let tokenFile = harness.dir.file("influx.token")
        let outside = try TemporaryDirectory(prefix: "hpm-outside")
        try outside.write("token", "x\n")
        let refused = try api.call("PUT", "/api/settings", json: #"{"influxdb":{"url":"\#(influx.url)","token_file":"\#(outside.file("token"))"}}"#)
        #expect(refused.status == 400 && Self.field(refused) == "influxdb.token_file", "a token file outside the allowed directories: \(refused.body)")
        let v2Only = try api.call("PUT", "/api/settings", json: #"{"influxdb":{"database":""}}"#)
        #expect(v2Only.status == 400 && Self.field(v2Only) == "influxdb.database", "\(v2Only.body)")
        #expect(Self.section(try Self.settings(api), "influxdb")["url"] as? String == "http://127.0.0.1:\(dead)", "nothing changed")

        let applied = try api.call("PUT", "/api/settings", json: """
        {"influxdb":{"url":"\(influx.url)","database":"hpm","token_file":"\(tokenFile)"},"collector":{"batch_size":50,"batch_interval":0.1}}
        """)
        #expect(applied.status == 200, "\(applied.body)")
        #expect(Set(applied.object["changed"] as? [String] ?? []) == ["influxdb.url", "influxdb.database", "influxdb.token_file",
                                                                      "collector.batch_size", "collector.batch_interval"], "\(applied.body)")
        let shown = try api.get("/api/settings")
        #expect(Self.section(shown.object, "influxdb")["token_set"] as? Bool == true && !shown.body.contains(token), "\(shown.body)")

        _ = try await eventually("points after the change", timeout: 10) { () -> Bool? in
            let rows = try influx.select("SELECT supply_temp FROM heatpump_metrics WHERE heat_pump_id = 'a'", db: "hpm")
            return rows.contains { (($0["time"] as? Int).map { Double($0) / 1e9 } ?? 0) > changedAt + 0.5 } ? true : nil
        }
        // Stop polling, then every poll the store kept must be in InfluxDB, each once, nothing else.
        #expect(try api.call("POST", "/api/heatpumps/a/enable", json: #"{"enabled":false}"#).status == 200)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        // Both in microseconds, rounded as the line protocol rounds a poll's time (whole µs, then × 1000
        // ns): milliseconds rounded from each side differ by one when the µs rounding lands on .5 ms.
        func polled() throws -> [Int64] {
            try db.query("SELECT at FROM readings WHERE heatpump_id = 'a' ORDER BY at").compactMap { $0[0].double }.map { Int64(($0 * 1_000_000).rounded()) }
        }
        func delivered() throws -> [Int64] {
            try influx.select("SELECT supply_temp FROM heatpump_metrics WHERE heat_pump_id = 'a'", db: "hpm")
                .compactMap { ($0["time"] as? Int).map { Int64($0 / 1000) } }.sorted()
        }
        var last = ""
        let points: [Int64]
        do {
            points = try await eventually("spool drained and every poll delivered", timeout: 15) { () -> [Int64]? in
                guard let m = daemon.metrics() else { return nil }
                let (polls, stored) = (try polled(), try delivered())
                let spooled = m.value("hpmanager_influx_spooled_points"), queued = m.value("hpmanager_sink_queue_depth", ["sink": "influxdb"])
                last = "polls \(polls.count), in InfluxDB \(stored.count), spooled \(spooled ?? -1), queued \(queued ?? -1)"
                return spooled == 0 && queued == 0 && !polls.isEmpty && polls == stored ? stored : nil
            }
        } catch {
            Issue.record("last seen: \(last)\ndaemon log:\n\(daemon.log.suffix(3000))")
            throw error
        }
        let before = points.filter { Double($0) / 1_000_000 < changedAt }
        #expect(before.count >= 10, "the spool from before the change arrived: \(before.count) of \(points.count)")
        #expect(Set(points).count == points.count && points.count > before.count, "each poll once, before and after the change")
        #expect(try InfluxTests.count(influx, "a", db: "old") == 0)
        #expect(daemon.process.stop() == 0)
        #expect(!daemon.log.contains(token), "the token reached the log")
    }
}
