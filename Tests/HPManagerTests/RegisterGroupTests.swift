import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// Register groups: a model declares `groups:`, registers name one with `group:`, and a device polls a
/// group only when its `config: {groups: [...]}` selects it. Unpolled registers still read and write by name.
@Suite("Register groups: declared per model, selected per device, polled only when selected", .harnessThreads, .serialized)
struct RegisterGroupTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])

    /// A model with two groups, an ungrouped register, grouped ones and a grouped template register.
    static let model = """
    models:
      grp:
        groups:
          energy: "Energy counters"
          service: "Installer parameters"
        registers:
          - {name: outdoor, address: 0}
          - {name: heat_kwh, address: 2, group: energy}
          - {name: fuse, address: 4, group: service, access: read_write, min: 6, max: 63}
        templates:
          loops:
            label: loop
            instances: [x, y]
            default: [x]
            stride: 10
            registers:
              - {name: flow, address: 20}
              - {name: pump_hours, address: 21, group: service}

    """

    func load(_ config: String, registers: String = RegisterGroupTests.model) throws -> Configuration {
        try loader.load(files: ["registers.yml": registers, "heatpumps.yml": "heatpumps:\n  - {id: d, model: grp, modbus: {host: h}\(config)}\n"],
                        directory: "/cfg")
    }

    func device(_ config: String) throws -> ModelDefinition {
        let c = try load(config)
        return try #require(c.model(for: c.devices[0]))
    }

    @Test("a device polls ungrouped registers plus the groups it selects (all: every group); every register stays in its model")
    func selection() throws {
        let none = try device("")
        #expect(none.groups.map(\.name) == ["energy", "service"] && none.groups[0].description == "Energy counters")
        #expect(none.registers.map(\.name) == ["outdoor", "heat_kwh", "fuse", "loop_x.flow", "loop_x.pump_hours"], "all registers resolve by name")
        #expect(none.polledRegisters.map(\.name) == ["outdoor", "loop_x.flow"], "no config.groups: ungrouped only")
        #expect(none.unpolled == [1, 2, 4])
        let energy = try device(", config: {groups: [energy], loops: [x, y]}")
        #expect(energy.polledRegisters.map(\.name) == ["outdoor", "heat_kwh", "loop_x.flow", "loop_y.flow"])
        #expect(energy.registers.first { $0.name == "loop_y.pump_hours" }?.group == "service", "template registers keep their group")
        let all = try device(", config: {groups: [all]}")
        #expect(all.polledRegisters.count == all.registers.count && all.unpolled.isEmpty)
        #expect(try device(", config: {groups: []}").polledRegisters.count == 2, "an empty list selects nothing")
    }

    @Test("the poll plan reads ungrouped and selected registers only, and never a quarantined one")
    func pollPlan() throws {
        let planner = ReadPlanner(maxGap: 0)
        func covered(_ model: ModelDefinition, _ plan: [ReadRequest]) -> [String] {
            plan.flatMap(\.members).map { model.registers[$0].name }.sorted()
        }
        let none = try device("")
        #expect(covered(none, planner.pollPlan(none)) == ["loop_x.flow", "outdoor"])
        let service = try device(", config: {groups: [service]}")
        #expect(covered(service, planner.pollPlan(service)) == ["fuse", "loop_x.flow", "loop_x.pump_hours", "outdoor"])
        // Quarantined registers stay out too, and the plan never covers them.
        let quarantined: Set<Int> = [0]
        let plan = planner.pollPlan(service, excluded: quarantined, forbidden: [.holding: [0]])
        #expect(!covered(service, plan).contains("outdoor") && plan.allSatisfy { !($0.address...($0.address + $0.count - 1)).contains(0) })
    }

    @Test("registers.yml: groups and group: are checked with file and line", arguments: [
        // (model body lines, message, line)
        ("    registers:\n      - name: a\n        address: 1\n        group: energy\n", "declares no groups; add groups: {energy:", 8),
        ("    groups: {energy: \"e\"}\n    registers:\n      - name: a\n        address: 1\n        group: enrgy\n",
         "register a is in group \"enrgy\", which model m does not declare; its groups are energy", 9),
        ("    groups: {all: \"x\"}\n    registers: [{name: a, address: 1}]\n", "group name \"all\" is reserved", 5),
        ("    groups: {Bad-name: \"x\"}\n    registers: [{name: a, address: 1}]\n", "group name \"Bad-name\" must be 1-16 letters", 5),
        ("    groups: {}\n    registers: [{name: a, address: 1}]\n", "groups must name at least one group", 5),
        ("    groups: {energy: \"e\"}\n    registers: [{name: a, address: 1}]\n    templates:\n      loops:\n        label: loop\n        instances: [x]\n        registers:\n          - name: t\n            address: 5\n            group: other\n",
         "register t is in group \"other\", which model m does not declare", 14),
        ("    registers: [{name: a, address: 1}]\n    templates:\n      groups: {label: g, instances: [x], registers: [{name: t, address: 5}]}\n",
         "template key \"groups\" is reserved", 7),
        ("    groups: {energy: \"e\"}\n    registers:\n      - {name: heat, address: 1, unit: kwh, group: energy}\n      - {name: el, address: 2, unit: kwh}\n    derived:\n      scop: {heat_energy: heat, electrical_energy: el}\n",
         "heat_energy names register \"heat\" of group energy, which a device polls only when it selects the group", 10),
    ])
    func refusedInModel(_ body: String, _ message: String, _ line: Int) throws {
        let text = "# registers\n\nmodels:\n  m:\n" + body
        do {
            _ = try loader.load(files: ["registers.yml": text, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
            Issue.record("accepted \(body)")
        } catch let e as ConfigErrors {
            #expect(e.errors.contains { $0.message.contains(message) && $0.file == "/cfg/registers.yml" && $0.line == line },
                    "\(e.errors.map { "\($0.line) \($0.message)" })")
        }
    }

    @Test("heatpumps.yml: a device selecting an unknown group gets the model's groups listed, with file and line", arguments: [
        ("grp", ", config: {groups: [energy, cooling]}", "config.groups: model grp has no group \"cooling\"; its groups are energy, service (or all)"),
        ("grp", ", config: {groups: [energy, energy]}", "group \"energy\" is listed twice"),
        ("grp", ", config: {groupz: [energy]}", "no config key \"groupz\"; expected loops, groups"),
        ("plain", ", config: {groups: [energy]}", "model plain has no register groups; remove config.groups"),
    ])
    func refusedOnDevice(_ model: String, _ config: String, _ message: String) throws {
        let registers = Self.model + "  plain:\n    registers: [{name: a, address: 1}]\n"
        let devices = "heatpumps:\n  - {id: ok, model: grp, modbus: {host: h}}\n  - {id: d, model: \(model), modbus: {host: h}\(config)}\n"
        do {
            _ = try loader.load(files: ["registers.yml": registers, "heatpumps.yml": devices], directory: "/cfg")
            Issue.record("accepted \(config)")
        } catch let e as ConfigErrors {
            #expect(e.errors.contains { $0.message.contains(message) && $0.file == "/cfg/heatpumps.yml" && $0.line == 3 },
                    "\(e.errors.map { "\($0.file):\($0.line) \($0.message)" })")
        }
        // The same check guards devices added at runtime (control socket, HTTP).
        let c = try loader.load(files: ["registers.yml": registers, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
        #expect(throws: ConfigError.self) {
            try loader.parseDevice(text: "{id: d, model: \(model), modbus: {host: h}\(config)}", source: "socket", models: c.models, defaultPollInterval: 10)
        }
    }
}
