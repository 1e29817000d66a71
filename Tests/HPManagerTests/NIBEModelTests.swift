import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// NIBE S-series: the full built-in map and its climate systems 1-4 (a template counting down:
/// stride −1), decoded against hpsim's own NIBE table.
@Suite("NIBE S-series map and climate systems", .harnessThreads, .serialized)
struct NIBEModelTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])

    func model(_ config: String = "") throws -> ModelDefinition {
        let c = try loader.load(files: ["heatpumps.yml": "heatpumps:\n  - {id: n, model: nibe_s1155, modbus: {host: h}\(config)}\n"], directory: "/cfg")
        return try #require(c.model(for: c.devices[0]))
    }

    @Test("climate systems expand downwards (stride -1); registers of systems 1-3 only are not made up for system 4")
    func expansion() throws {
        let all = try model(", config: {climate_systems: [1, 2, 3, 4]}")
        let byName = Dictionary(uniqueKeysWithValues: all.registers.map { ($0.name, $0) })
        #expect(byName["climate_system_1.room_temp"]?.address == 116, "30117")
        #expect(byName["climate_system_4.room_temp"]?.address == 113, "30114")
        #expect(byName["climate_system_2.room_setpoint"]?.address == 205 && byName["climate_system_2.room_setpoint"]?.registerType == .holding, "40206")
        #expect(byName["climate_system_3.heating_curve"]?.address == 24, "40025")
        #expect(byName["climate_system_4.heating_curve"] == nil && byName["climate_system_4.supply_setpoint"] == nil, "NIBE lists systems 1-3 only")
        #expect(byName["climate_system_4.room_setpoint_cooling"]?.address == 985, "40986")
        let r = try #require(byName["climate_system_2.heating_offset"])
        #expect(r.instance?.series == "climate_system_heating_offset" && r.instance?.labels == [SeriesLabel(name: "climate_system", value: "2")])
        #expect(r.access == .readWrite && r.min == -10 && r.max == 10 && r.unavailable == [-128])
        let plain = try model()
        #expect(plain.registers.filter { $0.instance != nil }.allSatisfy { $0.name.hasPrefix("climate_system_1.") }, "default: system 1")
        for key in ["priority", "operating_mode", "hot_water_start_temp_normal", "hot_water_stop_temp_normal", "additional_heat_power",
                    "sg_ready_mode", "sg_ready_requested_mode", "energy_heating_produced_hour"] {
            #expect(plain.registers.contains { $0.name == key }, "\(key) in the map")
        }
    }

    @Test("a negative stride that lands below address 0, or a register naming an instance the template lacks, is refused with file and line")
    func refused() throws {
        for (template, message) in [
            ("{label: loop, instances: [x, y, z], stride: -6, registers: [{name: t, address: 10}]}", "lands at address -2, below 0"),
            ("{label: loop, instances: [x, y], stride: -70000, registers: [{name: t, address: 10}]}", "between -65535 and 65535"),
            ("{label: loop, instances: [x, y], stride: -1, registers: [{name: t, address: 10, instances: [q]}]}", "instance \"q\" is not one of"),
        ] {
            let text = "models:\n  my:\n    registers: [{name: outdoor, address: 1}]\n    templates:\n      loops: \(template)\n"
            do {
                _ = try loader.load(files: ["registers.yml": text, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
                Issue.record("accepted \(template)")
            } catch let e as ConfigErrors {
                #expect(e.errors.contains { $0.message.contains(message) && $0.file == "/cfg/registers.yml" && $0.line >= 5 }, "\(e.errors.map { "\($0.line) \($0.message)" })")
            }
        }
        let text = "models:\n  my:\n    registers: [{name: outdoor, address: 1, instances: [x]}]\n"
        #expect(throws: ConfigErrors.self, "instances: only inside a template") {
            try loader.load(files: ["registers.yml": text, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
        }
    }

    @Test("the full map (every group, every instance of every template) decodes against hpsim: every register equals the simulator's value; absent modules and systems not fitted serve 'not available' and export nothing")
    func decodeAgainstSimulator() async throws {
        let model = try model(", config: {climate_systems: [1, 2, 3, 4], cascade_modules: [EB101, EB102, EB103, EB104, EB105, EB106, EB107, EB108], "
                              + "systems_5_8: [5, 6, 7, 8], flm_modules: [1, 2, 3, 4], ecs: [1, 2, 3], groups: [all]}")
        #expect(model.polledRegisters.count == model.registers.count, "groups: [all] polls every register")
        // The simulator names most points by NIBE number (n40123): matched by table and address.
        let points = Dictionary(try SimulatorProcess.dumpProfile("nibe", arguments: ["--nibe-systems", "1,3"]).map { ("\($0.table) \($0.address)", $0) },
                                uniquingKeysWith: { a, _ in a })
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--nibe-systems", "1,3"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        let outcome = try await DecodeMatrixTests.poll(link, unit: 1, registers: model.registers)
        #expect(outcome.failure == nil && outcome.rejected.isEmpty)
        let samples = Dictionary(uniqueKeysWithValues: outcome.samples.map { ($0.name, $0) })
        var checked = 0
        var absent: [String] = []
        for r in model.registers {
            let table = r.registerType == .input ? "input" : "holding"
            let point = try #require(points["\(table) \(r.address)"], "hpsim has \(r.name) at \(table) \(r.address)")
            #expect(point.length == 0 && point.order == (r.count == 2 ? "CDAB" : "ABCD"), "\(r.name): word order")
            if let raw = Int64(point.value), r.unavailable.contains(raw) {
                #expect(samples[r.name] == nil, "\(r.name): 'not available' exports nothing")
                absent.append(r.name)
                continue
            }
            let sample = try #require(samples[r.name], "\(r.name) decoded")
            if point.constant, let want = point.physical {
                #expect(abs(sample.value.doubleValue - want) < 1e-6, "\(r.name): \(sample.value) != \(want)")
            } else {
                #expect(sample.value.doubleValue.isFinite, "\(r.name)")
            }
            checked += 1
        }
        #expect(model.registers.count == 1_473, "every register of NIBE's list, every template instance expanded")
        #expect(absent.filter { $0.hasPrefix("climate_system_2.") || $0.hasPrefix("climate_system_4.") }.count == 25 + 15,
                "systems 2 (25) and 4 (15) not fitted")
        #expect(absent.count == 25 + 15 + 413, "413 registers of cascade modules and climate systems 5-8 the simulated plant lacks")
        #expect(checked == model.registers.count - absent.count)
        #expect(samples["priority"]?.label != nil && samples["sg_ready_mode"]?.label == "normal")
    }
}

extension NIBEModelTests {
    /// Modbus requests one poll of `nibe_s1155` (climate system 1) takes with the default collector
    /// settings, from the planner itself: tests that count requests follow the map as it grows.
    static func requestsPerPoll() throws -> Int {
        let config = try ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])
            .load(files: ["heatpumps.yml": "heatpumps:\n  - {id: n, model: nibe_s1155, modbus: {host: h}}\n"], directory: "/cfg")
        let model = try #require(config.model(for: config.devices[0]))
        return PollingSettings(config.collector.collector).planner(for: model).pollPlan(model).count
    }
}
