import ControlProtocol
import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The HTTP API against the real hpmanagerd binary, hpsim over real TCP and curl.
@Suite("HTTP API: endpoints, errors, auth and persistence against the real daemon", .harnessThreads)
struct HTTPAPITests {
    static func harness(sim: SimulatorProcess, port: Int, tokens: String = "") throws -> DaemonHarness {
        try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3, extraSections: """
        http:
          listen: 127.0.0.1:\(port)
          max_connections: 16
        \(tokens)
        """)
    }

    static func waitForAPI(_ client: HTTPAPIClient, _ daemon: DaemonProcess) async throws {
        do {
            _ = try await eventually("HTTP API up", timeout: 15) { (try? client.get("/health"))?.status == 200 ? true : nil }
        } catch {
            Issue.record("daemon log:\n\(daemon.log.suffix(4000))")
            throw error
        }
    }

    @Test("no tokens: loopback read-write; every endpoint's shape, error codes and statuses; HTTP adds persist across a restart")
    func loopbackEndpoints() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let port = try freeLoopbackPort()
        let harness = try Self.harness(sim: sim, port: port)
        var daemon = try harness.start()
        let api = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        try await Self.waitForAPI(api, daemon)

        let health = try api.get("/health")
        #expect(health.status == 200 && health.object["status"] as? String == "ok", "\(health.body)")
        let list = try api.get("/api/heatpumps")
        #expect(list.status == 200 && list.array.first?["id"] as? String == "a" && list.array.first?["manufacturer"] as? String == "NIBE", "\(list.body)")
        let details = try api.get("/api/heatpumps/a")
        #expect(details.status == 200 && ((details.object["registers"] as? [[String: Any]])?.contains { $0["name"] as? String == "climate_system_1.room_setpoint" } ?? false))
        let missing = try api.get("/api/heatpumps/nope")
        #expect(missing.status == 404 && missing.errorCode == "not_found", "\(missing.body)")
        #expect(try api.get("/api/nothing-here").status == 404)

        let data = try await eventually("values of a", timeout: 10) { () -> [String: Any]? in
            (try? api.get("/api/data/all"))?.object["a"] as? [String: Any]
        }
        #expect(data["climate_system_1.room_setpoint"] is Double)
        #expect(try api.get("/api/data/a").object["values"] is [String: Any])

        // The same validated, read-back, audited write as the socket's.
        let written = try api.call("POST", "/api/control/a", json: #"{"sensor":"climate_system_1.room_setpoint","value":22.5}"#)
        #expect(written.status == 200 && written.object["verified"] as? Bool == true, "\(written.body)")
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 206")["value"] as? Int == 225)
        let tooHigh = try api.call("POST", "/api/control/a", json: #"{"sensor":"climate_system_1.room_setpoint","value":99}"#)
        #expect(tooHigh.status == 422 && tooHigh.errorCode == "rejected", "\(tooHigh.body)")
        let unknown = try api.call("POST", "/api/control/a", json: #"{"sensor":"nope","value":1}"#)
        #expect(unknown.status == 404 && unknown.errorCode == "unknown_register", "\(unknown.body)")
        let garbage = try api.call("POST", "/api/control/a", json: #"{"sensor":"#)
        #expect(garbage.status == 400 && garbage.errorCode == "bad_request", "\(garbage.body)")
        let wrongType = try api.call("POST", "/api/control/a", json: #"{"sensor":5,"value":1}"#)
        #expect(wrongType.status == 400 && wrongType.body.contains("sensor"), "\(wrongType.body)")
        let huge = try api.call("POST", "/api/control/a", json: "{\"sensor\":\"" + String(repeating: "x", count: 1_100_000) + "\"}")
        #expect(huge.status == 413 && huge.errorCode == "payload_too_large", "\(huge.status) \(huge.body.prefix(200))")
        let badQuery = try api.get("/api/heatpumps/a/history?minutes=abc")
        #expect(badQuery.status == 400, "\(badQuery.body)")
        #expect(try api.get("/api/heatpumps/a/history?minutes=0").status == 422)
        let history = try await eventually("history of a", timeout: 10) { () -> [String: Any]? in
            let series = (try? api.get("/api/heatpumps/a/history?minutes=5"))?.object["series"] as? [String: Any]
            return series?["climate_system_1.room_setpoint"] != nil ? series : nil
        }
        #expect(history["climate_system_1.room_setpoint"] is [[Double]])
        let changes = try api.get("/api/heatpumps/a/state-changes?hours=1")
        #expect(changes.status == 200 && changes.object["changes"] is [[String: Any]], "\(changes.body)")

        // Add over HTTP, in idm_logger's shape: 201, polled at once, stored like a socket add.
        let added = try api.call("POST", "/api/heatpumps", json: """
        {"name": "Plant Room 2", "manufacturer": "NIBE", "model": "nibe_s1155", "location": "Basement",
         "connection": {"host": "127.0.0.1", "port": \(sim.ports[1]), "unit_id": 1}}
        """)
        #expect(added.status == 201 && added.object["id"] as? String == "plant-room-2", "\(added.body)")
        _ = try await eventually("plant-room-2 polled", timeout: 10) { () -> Bool? in
            (try? api.get("/api/data/all"))?.object["plant-room-2"] != nil ? true : nil
        }
        let duplicate = try api.call("POST", "/api/heatpumps", json: """
        {"id": "a", "name": "A", "model": "nibe_s1155", "connection": {"host": "127.0.0.1", "port": 1}}
        """)
        #expect(duplicate.status == 409, "\(duplicate.body)")
        let badModel = try api.call("POST", "/api/heatpumps", json: #"{"name":"x","model":"no_such","connection":{"host":"127.0.0.1"}}"#)
        #expect(badModel.status == 400 && badModel.errorCode == "invalid_device", "\(badModel.body)")
        let patched = try api.call("PATCH", "/api/heatpumps/plant-room-2", json: #"{"location":"Roof"}"#)
        #expect(patched.status == 200 && patched.object["location"] as? String == "Roof", "\(patched.body)")
        let yamlPatch = try api.call("PATCH", "/api/heatpumps/a", json: #"{"location":"Roof"}"#)
        #expect(yamlPatch.status == 409 && yamlPatch.errorCode == "defined_in_file", "\(yamlPatch.body)")
        let disabled = try api.call("POST", "/api/heatpumps/plant-room-2/enable", json: #"{"enabled":false}"#)
        #expect(disabled.status == 200 && disabled.object["enabled"] as? Bool == false, "\(disabled.body)")
        #expect(try api.call("POST", "/api/control/plant-room-2", json: #"{"sensor":"climate_system_1.room_setpoint","value":21}"#).status == 409)

        #expect(try api.get("/api/models").array.contains { $0["name"] as? String == "nibe_s1155" })
        #expect(try api.get("/api/registers/nibe_s1155").array.contains { $0["name"] as? String == "degree_minute_balance" && $0["writable"] as? Bool == true })
        #expect(try api.get("/api/registers/nope").status == 404)
        #expect(try api.get("/api/alerts").object["alerts"] is [Any])
        let events = try api.get("/api/events")
        #expect(events.body.contains("device_added by http:loopback"), "\(events.body.prefix(2000))")
        let metrics = try api.get("/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("heatpump_up{"), "\(metrics.body.prefix(300))")
        let spec = try api.get("/api/openapi.json")
        #expect(spec.status == 200 && (spec.object["openapi"] as? String)?.hasPrefix("3.") == true)
        let settings = try api.get("/api/settings")
        #expect(settings.status == 200 && settings.object["collector"] is [String: Any], "\(settings.body)")
        let changeSettings = try api.call("PUT", "/api/settings", json: #"{"http":{"listen":"127.0.0.1:1"}}"#)
        #expect(changeSettings.status == 409 && changeSettings.errorCode == "not_live" && changeSettings.body.contains("http.listen"), "\(changeSettings.body)")

        // SSE: the stream carries each poll.
        let stream = try api.call("GET", "/api/stream", maxTime: 2)
        #expect(stream.body.contains("event: poll") && stream.body.contains("\"id\":\"a\""), "\(stream.body.prefix(500))")

        #expect(daemon.process.stop() == 0, "graceful shutdown with the HTTP service")
        daemon = try harness.start()
        try await Self.waitForAPI(api, daemon)
        let after = try api.get("/api/heatpumps/plant-room-2")
        #expect(after.status == 200 && after.object["location"] as? String == "Roof" && after.object["enabled"] as? Bool == false, "\(after.body)")
        let removed = try api.call("DELETE", "/api/heatpumps/plant-room-2")
        #expect(removed.status == 200 && removed.object["removed"] as? String == "plant-room-2", "\(removed.body)")
        #expect(try api.get("/api/heatpumps/plant-room-2").status == 404)
        let yamlDelete = try api.call("DELETE", "/api/heatpumps/a")
        #expect(yamlDelete.status == 409 && yamlDelete.errorCode == "defined_in_file", "\(yamlDelete.body)")
        daemon.process.stop()
    }

    @Test("tokens: 401 without or with an unknown token, 403 for a viewer's write, operator writes audited by token name; no token in the log")
    func tokensAndRoles() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = try freeLoopbackPort()
        let viewerToken = APITokenHash.newToken(), operatorToken = APITokenHash.newToken()
        let harness = try Self.harness(sim: sim, port: port, tokens: """
          tokens:
            - {name: grafana, role: viewer, hash: "\(APITokenHash.hash(viewerToken))"}
            - {name: ops, role: operator, hash: "\(APITokenHash.hash(operatorToken))"}
        """)
        let daemon = try harness.start()
        let anonymous = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        let viewer = HTTPAPIClient(base: anonymous.base, token: viewerToken)
        let ops = HTTPAPIClient(base: anonymous.base, token: operatorToken)
        try await Self.waitForAPI(viewer, daemon)

        let none = try anonymous.get("/api/heatpumps")
        #expect(none.status == 401 && none.errorCode == "unauthorized", "\(none.body)")
        #expect(try anonymous.call("GET", "/api/heatpumps", token: "x" + viewerToken).status == 401)
        #expect(try viewer.get("/api/heatpumps").status == 200)
        _ = try await DaemonHarness.waitFor(daemon, "a up") { DaemonHarness.up($0, "a") == 1 }
        let denied = try viewer.call("POST", "/api/control/a", json: #"{"sensor":"climate_system_1.room_setpoint","value":21}"#)
        #expect(denied.status == 403 && denied.errorCode == "forbidden", "\(denied.body)")
        let allowed = try ops.call("POST", "/api/control/a", json: #"{"sensor":"climate_system_1.room_setpoint","value":21}"#)
        #expect(allowed.status == 200 && allowed.object["audited"] as? Bool == true, "\(allowed.body)")
        daemon.process.stop()

        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let audit = try db.query("SELECT client, result FROM write_audit ORDER BY id")
        #expect(audit.map { [$0[0].string, $0[1].string] } == [["http:ops", "ok"]])
        #expect(!daemon.log.contains(viewerToken) && !daemon.log.contains(operatorToken), "a token reached the log")
    }

    @Test("hash-token: the printed hash verifies the token and nothing else")
    func tokenHash() throws {
        let stored = APITokenHash.hash("correct-horse-battery-staple")
        #expect(APITokenHash.matches("correct-horse-battery-staple", stored: stored))
        #expect(!APITokenHash.matches("correct-horse-battery-stapl", stored: stored))
        #expect(!APITokenHash.matches("correct-horse-battery-staple", stored: "sha256:00:11"))
        #expect(APITokenHash.hash("t", salt: [1, 2]) != APITokenHash.hash("t", salt: [1, 3]), "salted")
    }
}
