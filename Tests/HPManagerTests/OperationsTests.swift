import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// SG Ready and PV surplus as vendor-neutral operations mapped in each model's `operations:`.
@Suite("SG Ready and PV surplus operations", .harnessThreads, .serialized)
struct OperationsTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])

    @Test("operations naming a missing or read-only register, or an unknown state, are rejected with file and line",
          arguments: [
              ("    operations:\n      sg_ready: {register: nope, states: {normal: 0, boost: 1}}\n", 7, "sg_ready names register \"nope\", which model m does not have"),
              ("    operations:\n      pv_surplus: {register: temp}\n", 7, "pv_surplus writes register \"temp\", which is access: read"),
              ("    operations:\n      sg_ready:\n        register: mode\n        states: {normal: 0, party: 1}\n", 9, "unknown SG Ready state \"party\""),
              ("    operations:\n      sg_ready: {register: mode, states: {boost: 1}}\n", 7, "needs normal and at least one of"),
          ])
    func rejects(_ operations: String, _ line: Int, _ fragment: String) {
        let text = "models:\n  m:\n    registers:\n      - {name: mode, address: 1, access: read_write}\n      - {name: temp, address: 2}\n" + operations
        expectRegistersRejected(loader, registers: text, line: line, fragment: fragment, fragment)
    }

    @Test("built-in mappings: NIBE SG Ready (enable, then 46009), Daikin smart-grid mode (cyclic), IDM PV surplus 74/78")
    func builtin() throws {
        let models = try ConfigLoader(builtinModelFiles: BuiltinModels.files).load(files: ["heatpumps.yml": "heatpumps: []\n"]).models
        let nibe = try #require(models["nibe_s1155"]?.operations.sgReady)
        #expect(nibe.prepare == [OperationWrite(register: "sg_ready_via_api", value: "1")] && nibe.register == "sg_ready_requested_mode")
        #expect(nibe.supported == [.lock, .normal, .recommend, .boost] && nibe.states[.boost] == "3" && nibe.states[.lock] == "0")
        let daikin = try #require(models["daikin_altherma"])
        #expect(daikin.operations.sgReady?.states == [.normal: "0", .lock: "1", .recommend: "2", .boost: "3"])
        let mode = try #require(daikin.registers.first { $0.name == "smart_grid_mode" })
        #expect(mode.address == 55 && mode.writeClass == .cyclic && mode.refreshInterval == 600)
        let idm = try #require(models["idm_navigator_2"])
        #expect(idm.operations.pvSurplus == PVSurplusOperation(register: "pv_surplus", production: "pv_production") && idm.operations.sgReady == nil)
        #expect(idm.registers.first { $0.name == "pv_surplus" }?.address == 74 && idm.registers.first { $0.name == "pv_production" }?.address == 78)
    }

    @Test("hpmanagerctl sg-ready / pv-surplus against hpsim: NIBE, Daikin and IDM registers written; unsupported models and states refused")
    func endToEnd() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "idm:0", "--tcp", "daikin:0"])
        let (nibe, idm, daikin) = (sim.ports[0], sim.ports[1], sim.ports[2])
        let harness = try DaemonHarness(devices: [.init(id: "nibe1", port: nibe), .init(id: "idm1", port: idm, model: "idm_navigator_2"),
                                                  .init(id: "daikin1", port: daikin, model: "daikin_altherma")], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "all polled") { m in
            ["nibe1", "idm1", "daikin1"].allSatisfy { m.value("heatpump_up", ["heatpump_id": $0]) == 1 }
        }
        func word(_ port: Int, _ table: String, _ address: Int) throws -> Int? { try sim.command("get \(port) 1 \(table) \(address)")["value"] as? Int }

        var r = try ControlSocketTests.ctl(harness.socketPath, ["sg-ready", "nibe1", "boost"])
        #expect(r.0 == 0 && r.1.contains("sg_ready_via_api := 1") && r.1.contains("sg_ready_requested_mode := 3 (verified)"), "\(r.1) \(r.2)")
        #expect(try word(nibe, "holding", 3032) == 1 && word(nibe, "holding", 6008) == 3)
        let nibeWrites = try sim.portStats(nibe).requestsByFunction[16] ?? 0
        r = try ControlSocketTests.ctl(harness.socketPath, ["sg-ready", "nibe1", "off"])
        #expect(r.0 == 0 && r.1.contains("sg_ready_via_api := 1 (unchanged)"), "the enable flag is not rewritten: \(r.1) \(r.2)")
        #expect(try word(nibe, "holding", 6008) == 0)
        #expect(try sim.portStats(nibe).requestsByFunction[16] == nibeWrites + 1, "one write: the mode")
        r = try ControlSocketTests.ctl(harness.socketPath, ["sg-ready", "nibe1", "party"])
        #expect(r.0 == 1 && r.2.contains("has no SG Ready state \"party\"; it supports lock, normal, recommend, boost") && r.2.contains("[bad_request]"), "\(r.2)")

        r = try ControlSocketTests.ctl(harness.socketPath, ["sg-ready", "daikin1", "recommend"])
        #expect(r.0 == 0 && r.1.contains("smart_grid_mode := 2"), "\(r.1) \(r.2)")
        #expect(try word(daikin, "holding", 55) == 2)
        r = try ControlSocketTests.ctl(harness.socketPath, ["wanted", "daikin1"])
        #expect(r.1.contains("smart_grid_mode"), "Daikin's demand register is kept alive: \(r.1)")

        r = try ControlSocketTests.ctl(harness.socketPath, ["sg-ready", "idm1", "boost"])
        #expect(r.0 == 1 && r.2.contains("has no SG Ready operation over Modbus; it supports pv-surplus") && r.2.contains("[unsupported]"), "\(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["pv-surplus", "idm1", "--kw", "3.5", "--production-kw", "5"])
        #expect(r.0 == 0 && r.1.contains("pv_surplus := 3.5 (verified)") && r.1.contains("pv_production := 5 (verified)"), "\(r.1) \(r.2)")
        // 3.5 as float32 = 0x40600000, low word first: 75 holds 0x4060; 5.0 = 0x40A00000.
        #expect(try word(idm, "input", 75) == 0x4060 && word(idm, "input", 79) == 0x40A0)
        r = try ControlSocketTests.ctl(harness.socketPath, ["pv-surplus", "nibe1", "--kw", "1"])
        #expect(r.0 == 1 && r.2.contains("takes no PV surplus over Modbus; it supports sg-ready") && r.2.contains("[unsupported]"), "\(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["pv-surplus", "idm1", "--kw", "500"])
        #expect(r.0 == 1 && r.2.contains("above the maximum"), "still validated: \(r.2)")
        #expect(daemon.process.stop() == 0)
    }
}
