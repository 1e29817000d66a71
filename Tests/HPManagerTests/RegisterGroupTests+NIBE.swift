import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// Register groups on the built-in NIBE map: the default poll set, and on-demand reads and writes of
/// unpolled registers through the daemon against hpsim.
extension RegisterGroupTests {
    @Test("NIBE: the default poll set is the 82 ungrouped registers of before; groups: [all] plans more requests")
    func nibeDefaultPollSet() throws {
        let c = try loader.load(files: ["heatpumps.yml": "heatpumps:\n  - {id: n, model: nibe_s1155, modbus: {host: h}}\n"], directory: "/cfg")
        let nibe = try #require(c.model(for: c.devices[0]))
        #expect(nibe.polledRegisters.count == 82 && nibe.polledRegisters.allSatisfy { $0.group == nil })
        #expect(nibe.registers.count == 82 + 1_338 + 6, "every plain register and climate system 1 (6 of its 18 grouped) in the model")
        let everything = try #require(c.models["nibe_s1155"]?.expanded([RegisterGroup.configKey: [RegisterGroup.all]]))
        let settings = PollingSettings(c.collector.collector)
        #expect(settings.planner(for: nibe).pollPlan(nibe).count < settings.planner(for: everything).pollPlan(everything).count)
    }

    @Test("against hpsim over the control socket: an unpolled register exports nothing yet reads and writes by name; groups: [all] polls the whole map; models show lists the groups")
    func onDemand() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "plain", port: sim.ports[0]),
                                                  .init(id: "full", port: sim.ports[1], timeout: 2, config: "{groups: [all]}")], interval: 0.5)
        let daemon = try harness.start()
        let s = harness.socketPath
        let m = try await DaemonHarness.waitFor(daemon, "both polled", timeout: 20) {
            DaemonHarness.up($0, "plain") == 1 && $0.has("heatpump_oil_temp_bt29", ["heatpump_id": "full"])
        }
        #expect(m.has("heatpump_outdoor_temp", ["heatpump_id": "plain"]))
        #expect(!m.has("heatpump_oil_temp_bt29", ["heatpump_id": "plain"]), "compressor group not selected: not polled")

        var r = try ControlSocketTests.ctl(s, ["read", "--json", "plain", "oil_temp_bt29"])
        #expect(r.0 == 0, "\(r.2)")
        let value = (ControlSocketTests.json(r.1)["values"] as? [[String: Any]])?.first?["value"] as? Double
        #expect(value.map { abs($0 - 23.7) < 1e-9 } == true, "hpsim's BT29 reading, read on demand: \(r.1)")
        r = try ControlSocketTests.ctl(s, ["write", "plain", "external_sensor_outdoor_temp_bt1", "5.5"])
        #expect(r.0 == 0 && r.1.contains("verified"), "\(r.1) \(r.2)")
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 5217")["value"] as? Int == 55, "45218 written on the wire")
        r = try ControlSocketTests.ctl(s, ["write", "plain", "fuse", "500"])
        #expect(r.0 == 1 && r.2.contains("above the maximum"), "unpolled registers are validated the same way: \(r.2)")

        r = try ControlSocketTests.ctl(s, ["status", "--json", "full"])
        let status = (ControlSocketTests.json(r.1)["heatpumps"] as? [[String: Any]])?.first
        #expect(status?["state"] as? String == "polling" && (status?["quarantined"] as? [Any] ?? []).isEmpty, "\(r.1)")

        r = try ControlSocketTests.ctl(s, ["models", "show", "nibe_s1155"])
        #expect(r.0 == 0 && r.1.contains("config.groups") && r.1.contains("cascade: ") && r.1.contains("compressor: "), "\(r.1)")
        #expect(daemon.process.stop() == 0)
    }
}
