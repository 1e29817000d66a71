import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// A model's `max_gap` / `max_registers_per_request` narrow the collector's for that model's
/// devices. The Luxtronik SHI fails a whole read that covers an address it does not implement, and
/// hpsim's luxtronik profile refuses such reads the same way.
@Suite("Model-level request limits (Luxtronik max_gap 0, IDM 40 registers)", .harnessThreads)
struct ModelRequestLimitTests {
    static let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])

    static func runtime(_ model: String, collector: String = "", config: String = "") throws -> DeviceRuntime {
        var files = ["heatpumps.yml": "heatpumps:\n  - {id: d, model: \(model), modbus: {host: h}\(config)}\n"]
        if !collector.isEmpty { files["collector.yml"] = collector }
        let c = try loader.load(files: files, directory: "/cfg")
        let model = try #require(c.model(for: c.devices[0]))
        return DeviceRuntime(device: c.devices[0], model: model, polling: PollingSettings(c.collector.collector))
    }

    /// Addresses a request covers that no register of `registers` occupies.
    static func bridged(_ plan: [ReadRequest], _ registers: [RegisterDefinition]) -> [Int] {
        plan.flatMap { request -> [Int] in
            let used = Set(request.members.flatMap { i in registers[i].address..<(registers[i].address + registers[i].count) })
            return (request.address..<(request.address + request.count)).filter { !used.contains($0) }
        }
    }

    @Test("the planner of a luxtronik_2_1 device bridges no gap although collector.max_gap is 16; other models keep the collector's")
    func plannerObeysModel() throws {
        let lux = try Self.runtime("luxtronik_2_1", config: ", config: {circuits: [1, 2, 3]}")
        #expect(lux.polling.maxGap == 16 && lux.model.maxGap == 0)
        let plan = lux.planner.plan(lux.model.registers)
        #expect(Self.bridged(plan, lux.model.registers).isEmpty, "reads cover only mapped addresses")
        #expect(!Self.bridged(lux.polling.planner(for: ModelDefinition(name: "plain", registers: [])).plan(lux.model.registers), lux.model.registers).isEmpty,
                "with the collector's max_gap alone the same registers would bridge gaps")
        // IDM: at most 40 registers per request, as its library batches; NIBE has no model limit.
        let idm = try Self.runtime("idm_navigator_2", config: ", config: {circuits: [A, B, C, D, E, F, G], zones: [0]}")
        #expect(idm.planner.plan(idm.model.registers).allSatisfy { $0.count <= 40 } && idm.polling.maxRegistersPerRequest == 125)
        let nibe = try Self.runtime("nibe_s1155")
        #expect(nibe.planner.maxGap == 16 && nibe.planner.maxRegisters == 125, "no model limits: the collector's")
    }

    @Test("the smaller of the model's and the collector's value applies; extends inherits; out-of-range values are refused with file and line",
          arguments: [(modelGap: "4", collector: 16, expected: 4), (modelGap: "4", collector: 2, expected: 2)])
    func smallerWins(_ c: (modelGap: String, collector: Int, expected: Int)) throws {
        let registers = "models:\n  base:\n    max_gap: \(c.modelGap)\n    registers: [{name: a, address: 0}, {name: b, address: 10}]\n  child:\n    extends: base\n"
        let config = try Self.loader.load(files: ["registers.yml": registers, "collector.yml": "collector:\n  max_gap: \(c.collector)\n",
                                                  "heatpumps.yml": "heatpumps:\n  - {id: d, model: child, modbus: {host: h}}\n"], directory: "/cfg")
        let model = try #require(config.models["child"])
        #expect(model.maxGap == 4, "inherited from base")
        #expect(PollingSettings(config.collector.collector).planner(for: model).maxGap == c.expected)
    }

    @Test("max_gap and max_registers_per_request outside their ranges are config errors at the model's line",
          arguments: ["max_gap: -1", "max_gap: 125", "max_registers_per_request: 0", "max_registers_per_request: 126", "max_gap: many"])
    func refused(_ line: String) throws {
        let registers = "models:\n  m:\n    \(line)\n    registers: [{name: a, address: 0}]\n"
        do {
            _ = try Self.loader.load(files: ["registers.yml": registers, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
            Issue.record("accepted \(line)")
        } catch let e as ConfigErrors {
            #expect(e.errors.contains { $0.file == "/cfg/registers.yml" && $0.line == 3 }, "\(e.errors.map { "\($0.line) \($0.message)" })")
        }
    }

    /// Requests hpsim refused because they covered an address its luxtronik profile does not implement.
    static func refusedReads(_ sim: SimulatorProcess, port: Int) throws -> Int {
        let stats = try sim.command("stats")["stats"] as? [String: Any]
        let tcp = stats?["tcp"] as? [String: Any]
        let units = (tcp?[String(port)] as? [String: Any])?["units"] as? [String: Any]
        return try #require((units?["1"] as? [String: Any])?["refused_unimplemented"] as? Int, "hpsim counts refused reads")
    }

    @Test("a luxtronik_2_1 device polled from hpsim (which refuses reads over unimplemented addresses, like the SHI) issues no refused read")
    func simulatorRefusesGaps() async throws {
        let runtime = try Self.runtime("luxtronik_2_1", config: ", config: {circuits: [1, 2, 3]}")
        let registers = runtime.model.registers
        let sim = try SimulatorProcess(["--tcp", "luxtronik:0", "--luxtronik-circuits", "1,3"])
        let port = sim.ports[0]
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let executor = PollExecutor(unitID: 1, timeout: 2, registers: registers)
        let plan = runtime.planner.plan(registers)
        let outcome = try await executor.execute(plan, on: link)
        #expect(outcome.failure == nil && outcome.rejected.isEmpty && outcome.requests == plan.count, "\(outcome.requests) requests for \(plan.count) planned")
        #expect(outcome.samples.count > 80, "\(outcome.samples.count) values")
        #expect(try Self.refusedReads(sim, port: port) == 0)

        // The same registers planned with only the collector's max_gap: hpsim refuses the bridging
        // reads (the poller then splits them: more requests than planned).
        let bridging = runtime.polling.planner(for: ModelDefinition(name: "plain", registers: [])).plan(registers)
        let split = try await executor.execute(bridging, on: link)
        #expect(try Self.refusedReads(sim, port: port) > 0, "hpsim refuses a read over an unimplemented address")
        #expect(split.requests > bridging.count)
    }
}
