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
        #expect(nibe.registers.count == 82 + 690 + 16, "every plain register and climate system 1 (16 of its 28 grouped) in the model; no optional module listed")
        let everything = try #require(c.models["nibe_s1155"]?.expanded([RegisterGroup.configKey: [RegisterGroup.all]]))
        let settings = PollingSettings(c.collector.collector)
        #expect(settings.planner(for: nibe).pollPlan(nibe).count < settings.planner(for: everything).pollPlan(everything).count)
    }

    @Test("NIBE: an optional module (cascade EB101-EB108, ECS with its zones) is in the model when the device lists it and polled when its group is selected too; its series carry the module's label")
    func nibeModulesAndGroups() throws {
        func nibe(_ config: String) throws -> ModelDefinition {
            let c = try loader.load(files: ["heatpumps.yml": "heatpumps:\n  - {id: n, model: nibe_s1155, modbus: {host: h}\(config)}\n"], directory: "/cfg")
            return try #require(c.model(for: c.devices[0]))
        }
        let unlisted = try nibe(", config: {groups: [cascade, zones]}")
        #expect(!unlisted.registers.contains { $0.name.hasPrefix("cascade_module_") || $0.name.hasPrefix("ecs_") }, "no module listed: none in the model")
        let listed = try nibe(", config: {cascade_modules: [EB102], ecs: [2], ecs_zones: [5]}")
        let superheat = try #require(listed.registers.first { $0.name == "cascade_module_eb102.eev_superheat" })
        #expect(superheat.address == 920 && superheat.group == "cascade", "30921: EB102's block, 25 apart per module")
        #expect(superheat.instance?.series == "cascade_module_eev_superheat"
                && superheat.instance?.labels == [SeriesLabel(name: "cascade_module", value: "EB102")])
        let zone = try #require(listed.registers.first { $0.name == "ecs_2.zone_5.affected" })
        #expect(zone.address == 2163 && zone.group == "zones", "42164 = 42120 + 40 per ECS + 1 per zone")
        #expect(zone.instance?.labels == [SeriesLabel(name: "ecs", value: "2"), SeriesLabel(name: "zone", value: "5")])
        #expect(!listed.polledRegisters.contains { $0.group != nil }, "modules listed, groups not selected: nothing of theirs polled")
        let polled = try nibe(", config: {cascade_modules: [EB102], ecs: [2], ecs_zones: [5], groups: [cascade, zones]}")
        let names = Set(polled.polledRegisters.map(\.name))
        #expect(names.contains("cascade_module_eb102.eev_superheat") && names.contains("ecs_2.zone_5.affected") && names.contains("ecs_2.input_affects_ecs1"))
        #expect(!names.contains { $0.hasPrefix("cascade_module_eb101.") || $0.hasPrefix("ecs_1.") }, "modules not listed stay out")
        #expect(names.contains("cascade_module_eb102.fan_speed") && names.contains("cascade_eb101_eev_superheat"), "EB102-only register; EB101's plain block")
    }

    @Test("against hpsim over the control socket: an unpolled register exports nothing yet reads and writes by name; groups: [all] polls the whole map; models show lists the groups")
    func onDemand() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "plain", port: sim.ports[0]),
                                                  .init(id: "full", port: sim.ports[1], timeout: 2, config: "{groups: [all]}")], interval: 0.5)
        let daemon = try harness.start()
        let s = harness.socketPath
        let m = try await DaemonHarness.waitFor(daemon, "both polled", timeout: 20) {
            DaemonHarness.up($0, "plain") == 1 && $0.has("heatpump_compressor_oil_temp", ["heatpump_id": "full"])
        }
        #expect(m.has("heatpump_outdoor_temp", ["heatpump_id": "plain"]))
        #expect(!m.has("heatpump_compressor_oil_temp", ["heatpump_id": "plain"]), "compressor group not selected: not polled")

        var r = try ControlSocketTests.ctl(s, ["read", "--json", "plain", "compressor_oil_temp"])
        #expect(r.0 == 0, "\(r.2)")
        let value = (ControlSocketTests.json(r.1)["values"] as? [[String: Any]])?.first?["value"] as? Double
        #expect(value.map { abs($0 - 23.7) < 1e-9 } == true, "hpsim's BT29 reading, read on demand: \(r.1)")
        r = try ControlSocketTests.ctl(s, ["write", "plain", "outdoor_temp_from_modbus", "5.5"])
        #expect(r.0 == 0 && r.1.contains("verified"), "\(r.1) \(r.2)")
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 5217")["value"] as? Int == 55, "45218 written on the wire")
        r = try ControlSocketTests.ctl(s, ["write", "plain", "fuse_size", "500"])
        #expect(r.0 == 1 && r.2.contains("above the maximum"), "unpolled registers are validated the same way: \(r.2)")

        r = try ControlSocketTests.ctl(s, ["status", "--json", "full"])
        let status = (ControlSocketTests.json(r.1)["heatpumps"] as? [[String: Any]])?.first
        #expect(status?["state"] as? String == "polling" && (status?["quarantined"] as? [Any] ?? []).isEmpty, "\(r.1)")

        r = try ControlSocketTests.ctl(s, ["models", "show", "nibe_s1155"])
        #expect(r.0 == 0 && r.1.contains("config.groups") && r.1.contains("cascade: ") && r.1.contains("compressor: "), "\(r.1)")
        #expect(daemon.process.stop() == 0)
    }
}
