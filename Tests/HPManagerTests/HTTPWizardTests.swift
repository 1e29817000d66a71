import Foundation
import Testing
import TestSupport

/// The add-device wizard's API against the real daemon and hpsim: manufacturers → models → setup
/// text, an IDM device added over HTTP with circuits and zones (polled), and its dashboard.
@Suite("HTTP API: manufacturers, setup, circuits/zones over POST /api/heatpumps, the device dashboard", .harnessThreads)
struct HTTPWizardTests {
    @Test("manufacturers, their models and setup text; 404 for unknown makers and a model of another maker")
    func catalog() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = try freeLoopbackPort()
        let harness = try HTTPAPITests.harness(sim: sim, port: port)
        let daemon = try harness.start()
        let api = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        try await HTTPAPITests.waitForAPI(api, daemon)

        let makers = try api.get("/api/manufacturers")
        #expect(makers.status == 200, "\(makers.body)")
        let idm = try #require(makers.array.first { $0["id"] as? String == "idm" }, "\(makers.body)")
        #expect(idm["name"] as? String == "IDM" && idm["models"] as? [String] == ["idm_navigator_2"])
        #expect(makers.array.contains { $0["id"] as? String == "alpha-innotec" && $0["name"] as? String == "Alpha Innotec" }, "\(makers.body)")

        let models = try api.get("/api/manufacturers/IDM/models")  // the name works as well as the id
        #expect(models.status == 200, "\(models.body)")
        let navigator = try #require(models.array.first)
        let templates = navigator["templates"] as? [[String: Any]] ?? []
        #expect(navigator["name"] as? String == "idm_navigator_2" && templates.contains { $0["key"] as? String == "circuits" }, "\(models.body)")

        let setup = try api.get("/api/manufacturers/idm/models/idm_navigator_2/setup")
        #expect(setup.status == 200 && (setup.object["setup"] as? String)?.contains("Modbus TCP") == true, "\(setup.body)")
        #expect((setup.object["setup"] as? String)?.contains("unit id") == true && setup.object["manufacturer"] as? String == "IDM")
        let circuits = (setup.object["templates"] as? [[String: Any]])?.first { $0["key"] as? String == "circuits" }
        #expect(circuits?["instances"] as? [String] == ["A", "B", "C", "D", "E", "F", "G"] && circuits?["default"] as? [String] == ["A"], "\(setup.body)")

        let otherMaker = try api.get("/api/manufacturers/nibe/models/idm_navigator_2/setup")
        #expect(otherMaker.status == 404 && otherMaker.errorCode == "not_found", "\(otherMaker.body)")
        let noMaker = try api.get("/api/manufacturers/acme/models")
        #expect(noMaker.status == 404 && noMaker.errorCode == "not_found", "\(noMaker.body)")
        #expect(try api.get("/api/manufacturers/acme/models/x/setup").status == 404)
        #expect(daemon.process.stop() == 0)
    }

    @Test("POST /api/heatpumps with config {circuits: [A, B], zones: [0]}: the IDM device polls both circuits; PATCH keeps them; a bad circuit is 400")
    func circuitsAndDashboard() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "idm:0", "--idm-circuits", "A,B", "--idm-zones", "0"])
        let port = try freeLoopbackPort()
        let harness = try HTTPAPITests.harness(sim: sim, port: port)
        let daemon = try harness.start()
        let api = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        try await HTTPAPITests.waitForAPI(api, daemon)

        let added = try api.call("POST", "/api/heatpumps", json: """
        {"name": "IDM Lab", "manufacturer": "IDM", "model": "idm_navigator_2", "location": "Lab",
         "connection": {"host": "127.0.0.1", "port": \(sim.ports[1]), "unit_id": 1},
         "poll_interval": 0.3, "config": {"circuits": ["A", "B"], "zones": [0]}}
        """)
        #expect(added.status == 201 && added.object["id"] as? String == "idm-lab", "\(added.body)")
        let values = try await eventually("circuit B polled", timeout: 10) { () -> [String: Any]? in
            let values = (try? api.get("/api/data/idm-lab"))?.object["values"] as? [String: Any]
            return values?["circuit_b.room_temp"] != nil ? values : nil
        }
        #expect(values["circuit_a.flow_temp"] is Double && values["zone_0.mode"] != nil, "\(values.keys.sorted())")
        #expect(values["circuit_c.flow_temp"] == nil, "only the configured circuits")

        // PATCH rewrites the whole entry: the circuits must survive it.
        let patched = try api.call("PATCH", "/api/heatpumps/idm-lab", json: #"{"location": "Roof"}"#)
        #expect(patched.status == 200 && patched.object["location"] as? String == "Roof", "\(patched.body)")
        let registers = (patched.object["registers"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(registers.contains("circuit_b.room_temp") && !registers.contains("circuit_c.room_temp"), "\(registers.filter { $0.hasPrefix("circuit") })")

        let bad = try api.call("POST", "/api/heatpumps", json: """
        {"name": "IDM 2", "model": "idm_navigator_2", "connection": {"host": "127.0.0.1", "port": \(sim.ports[1])}, "config": {"circuits": ["Q"]}}
        """)
        #expect(bad.status == 400 && bad.errorCode == "invalid_device" && bad.body.contains("circuit \\\"Q\\\" does not exist"), "\(bad.body)")
        let badHost = try api.call("POST", "/api/heatpumps", json: #"{"name": "x", "model": "nibe_s1155", "connection": {"host": "plant\u0005room"}}"#)
        #expect(badHost.status == 400 && badHost.errorCode == "invalid_device" && badHost.body.contains("host must be a host name"), "\(badHost.body)")
        let notTemplated = try api.call("POST", "/api/heatpumps", json: """
        {"name": "NIBE 2", "model": "nibe_s1155", "connection": {"host": "127.0.0.1", "port": \(sim.ports[0])}, "config": {"circuits": ["A"]}}
        """)
        #expect(notTemplated.status == 400 && notTemplated.body.contains("has no config key \\\"circuits\\\""), "\(notTemplated.body)")

        // The device's dashboard: status, key values with units, states with labels, active alerts.
        // (The PATCH restarted the device: wait for its first poll.)
        let board = try await eventually("dashboard values after the restart", timeout: 10) { () -> HTTPAPIClient.Reply? in
            let reply = try api.get("/api/dashboards/heatpump/idm-lab")
            return reply.status == 200 && reply.object["timestamp"] is Double ? reply : nil
        }
        #expect((board.object["heatpump"] as? [String: Any])?["id"] as? String == "idm-lab" && board.object["alerts"] is [Any])
        let keyValues = board.object["key_values"] as? [[String: Any]] ?? []
        let roomB = keyValues.first { $0["register"] as? String == "circuit_b.room_temp" }
        #expect(roomB?["unit"] as? String == "celsius" && roomB?["value"] is Double, "\(keyValues.prefix(5))")
        let states = board.object["states"] as? [[String: Any]] ?? []
        #expect(states.contains { $0["register"] as? String == "circuit_b.mode" && $0["label"] is String }, "\(states)")
        #expect(!keyValues.contains { $0["register"] as? String == "circuit_b.mode" }, "states are not repeated as key values")
        let missing = try api.get("/api/dashboards/heatpump/nope")
        #expect(missing.status == 404 && missing.errorCode == "not_found", "\(missing.body)")
        #expect(daemon.process.stop() == 0)
    }
}
