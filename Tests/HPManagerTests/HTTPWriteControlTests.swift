import ControlProtocol
import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The socket's write-control operations over REST, against the real daemon and hpsim: SG Ready,
/// PV surplus, scheduled jobs, wanted cyclic values, the EEPROM budget; operator only, audited by token name.
@Suite("HTTP API: SG Ready, PV surplus, jobs, wanted values and the EEPROM budget over REST", .harnessThreads)
struct HTTPWriteControlTests {
    @Test("operator writes reach hpsim and the audit as http:<token>; viewer 403; unsupported 422; bad input 400; budget 409; jobs and wanted round trip")
    func writeControl() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "idm:0"])
        let (nibe, idm) = (sim.ports[0], sim.ports[1])
        let port = try freeLoopbackPort()
        let viewerToken = APITokenHash.newToken(), operatorToken = APITokenHash.newToken()
        let harness = try DaemonHarness(devices: [.init(id: "nibe1", port: nibe), .init(id: "idm1", port: idm, model: "idm_navigator_2")],
                                        interval: 0.3, extraSections: """
        writes:
          eeprom_min_interval: 10m
        http:
          listen: 127.0.0.1:\(port)
          tokens:
            - {name: grafana, role: viewer, hash: "\(APITokenHash.hash(viewerToken))"}
            - {name: ops, role: operator, hash: "\(APITokenHash.hash(operatorToken))"}
        """)
        let daemon = try harness.start()
        let viewer = HTTPAPIClient(base: "http://127.0.0.1:\(port)", token: viewerToken)
        let ops = HTTPAPIClient(base: viewer.base, token: operatorToken)
        try await HTTPAPITests.waitForAPI(viewer, daemon)
        _ = try await DaemonHarness.waitFor(daemon, "both polled") { m in ["nibe1", "idm1"].allSatisfy { DaemonHarness.up(m, $0) == 1 } }
        func word(_ port: Int, _ table: String, _ address: Int) throws -> Int? { try sim.command("get \(port) 1 \(table) \(address)")["value"] as? Int }

        // SG Ready: NIBE's enable flag and request register.
        let denied = try viewer.call("POST", "/api/heatpumps/nibe1/sg-ready", json: #"{"state":"boost"}"#)
        #expect(denied.status == 403 && denied.errorCode == "forbidden", "\(denied.body)")
        let boost = try ops.call("POST", "/api/heatpumps/nibe1/sg-ready", json: #"{"state":"boost"}"#)
        let sgWrites = boost.object["writes"] as? [[String: Any]] ?? []
        #expect(boost.status == 200 && sgWrites.contains { $0["register"] as? String == "sg_ready_requested_mode" && $0["verified"] as? Bool == true }, "\(boost.body)")
        #expect(try word(nibe, "holding", 6008) == 3)
        let party = try ops.call("POST", "/api/heatpumps/nibe1/sg-ready", json: #"{"state":"party"}"#)
        #expect(party.status == 400 && party.errorCode == "bad_request" && party.body.contains("lock, normal, recommend, boost"), "\(party.body)")
        let unsupported = try ops.call("POST", "/api/heatpumps/idm1/sg-ready", json: #"{"state":"boost"}"#)
        #expect(unsupported.status == 422 && unsupported.errorCode == "unsupported", "\(unsupported.body)")
        #expect(try ops.call("POST", "/api/heatpumps/nope/sg-ready", json: #"{"state":"boost"}"#).status == 404)

        // PV surplus: IDM's float32 registers, low word first.
        let pv = try ops.call("POST", "/api/heatpumps/idm1/pv-surplus", json: #"{"kw":3.5,"production_kw":5}"#)
        #expect(pv.status == 200 && (pv.object["writes"] as? [Any])?.count == 2, "\(pv.body)")
        #expect(try word(idm, "input", 75) == 0x4060 && word(idm, "input", 79) == 0x40A0)
        let pvText = try ops.call("POST", "/api/heatpumps/idm1/pv-surplus", json: #"{"kw":"3"}"#)
        #expect(pvText.status == 400 && pvText.body.contains("kw"), "\(pvText.body)")
        let pvHuge = try ops.call("POST", "/api/heatpumps/idm1/pv-surplus", json: #"{"kw":500}"#)
        #expect(pvHuge.status == 422, "still validated: \(pvHuge.body)")

        // EEPROM budget: one write of dhw_setpoint per 10 min; the second is 409 with nothing on the wire.
        let first = try ops.call("POST", "/api/control/idm1", json: #"{"sensor":"dhw_setpoint","value":55}"#)
        #expect(first.status == 200 && first.object["verified"] as? Bool == true, "\(first.body)")
        let wire = try sim.portStats(idm).requestsByFunction[16] ?? 0
        let second = try ops.call("POST", "/api/control/idm1", json: #"{"sensor":"dhw_setpoint","value":56}"#)
        #expect(second.status == 409 && second.errorCode == "eeprom_budget", "\(second.body)")
        #expect(try sim.portStats(idm).requestsByFunction[16] ?? 0 == wire)

        // Scheduled jobs.
        let job = try ops.call("POST", "/api/heatpumps/idm1/jobs", json: #"{"register":"dhw_setpoint","value":48,"days":"weekdays","at":"06:30"}"#)
        #expect(job.status == 201 && job.object["days"] as? String == "weekdays" && job.object["client"] as? String == "http:ops", "\(job.body)")
        let number = try #require(job.object["job"] as? Int)
        #expect(try viewer.call("POST", "/api/heatpumps/idm1/jobs", json: #"{"register":"dhw_setpoint","value":48,"at":"06:30"}"#).status == 403)
        let badTime = try ops.call("POST", "/api/heatpumps/idm1/jobs", json: #"{"register":"dhw_setpoint","value":48,"at":"25:00"}"#)
        #expect(badTime.status == 400, "\(badTime.body)")
        let badRegister = try ops.call("POST", "/api/heatpumps/idm1/jobs", json: #"{"register":"nope","value":1,"at":"06:30"}"#)
        #expect(badRegister.status == 404 && badRegister.errorCode == "unknown_register", "\(badRegister.body)")
        let listed = try viewer.get("/api/heatpumps/idm1/jobs")
        #expect(listed.status == 200 && (listed.object["jobs"] as? [[String: Any]])?.map { $0["job"] as? Int } == [number], "\(listed.body)")
        #expect((try viewer.get("/api/heatpumps/nibe1/jobs").object["jobs"] as? [Any])?.isEmpty == true)
        #expect((try viewer.get("/api/jobs").object["jobs"] as? [Any])?.count == 1)
        #expect(try viewer.call("DELETE", "/api/jobs/\(number)").status == 403)
        let removed = try ops.call("DELETE", "/api/jobs/\(number)")
        #expect(removed.status == 200 && removed.object["removed"] as? Int == number, "\(removed.body)")
        #expect(try ops.call("DELETE", "/api/jobs/\(number)").status == 404)
        #expect(try ops.call("DELETE", "/api/jobs/abc").status == 400)

        // A cyclic register: wanted until cleared.
        let glt = try ops.call("POST", "/api/control/idm1", json: #"{"sensor":"glt_temp_demand_heating","value":35}"#)
        #expect(glt.status == 200 && glt.object["refresh_interval"] as? Double == 600, "\(glt.body)")
        let wanted = try viewer.get("/api/wanted?id=idm1")
        let wantedRows = wanted.object["wanted"] as? [[String: Any]] ?? []
        #expect(wantedRows.count == 1 && wantedRows.first?["register"] as? String == "glt_temp_demand_heating" && wantedRows.first?["value"] as? String == "35"
                && wantedRows.first?["client"] as? String == "http:ops", "\(wanted.body)")
        #expect(try viewer.get("/api/wanted?id=nope").status == 404)
        #expect(try viewer.call("DELETE", "/api/heatpumps/idm1/wanted/glt_temp_demand_heating").status == 403)
        let cleared = try ops.call("DELETE", "/api/heatpumps/idm1/wanted/glt_temp_demand_heating")
        #expect(cleared.status == 200 && cleared.object["cleared"] as? Bool == true, "\(cleared.body)")
        #expect((try viewer.get("/api/wanted").object["wanted"] as? [Any])?.isEmpty == true)
        #expect(try ops.call("DELETE", "/api/heatpumps/idm1/wanted/glt_temp_demand_heating").status == 404)
        #expect(daemon.process.stop() == 0)

        // Every write of this test is in the write audit under the operator's token name.
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let clients = Set(try db.query("SELECT client FROM write_audit").compactMap { $0[0].string })
        #expect(!clients.isEmpty && clients.allSatisfy { $0.contains("http:ops") }, "\(clients)")
        let registers = Set(try db.query("SELECT register FROM write_audit").compactMap { $0[0].string })
        #expect(registers.isSuperset(of: ["sg_ready_requested_mode", "pv_surplus", "dhw_setpoint", "glt_temp_demand_heating"]), "\(registers)")
        #expect(!daemon.log.contains(operatorToken) && !daemon.log.contains(viewerToken))
    }
}
