import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// The fifth built-in model, Stiebel Eltron WPM via ISG: 1-based ISG numbers with address_offset −1,
/// decoded against hpsim's `stiebel` profile, and HPManager's own Stiebel config still loading.
@Suite("Stiebel Eltron WPM via ISG", .harnessThreads, .serialized)
struct StiebelModelTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])

    func builtin() throws -> ModelDefinition {
        let config = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
        return try #require(config.models["stiebel_eltron_wpm"], "built-in model")
    }

    /// The built-in with every cascade heat pump and room module expanded.
    func everyInstance() throws -> ModelDefinition { try builtin().everyInstance }

    @Test("ISG numbers go on the wire minus one; blocks 500+ input, 1500+ holding; operating modes as labels; setup text")
    func layout() throws {
        let model = try builtin()
        let byName = Dictionary(uniqueKeysWithValues: model.registers.map { ($0.name, $0) })
        #expect(byName["outside_temperature"]?.address == 506 && byName["outside_temperature"]?.registerType == .input, "ISG 507")
        let mode = try #require(byName["operating_mode"])
        #expect(mode.address == 1500 && mode.registerType == .holding && mode.access == .readWrite && mode.min == 0 && mode.max == 5)
        #expect(mode.enumValues == [0: "emergency", 1: "standby", 2: "program", 3: "comfort", 4: "eco", 5: "dhw_only"])
        #expect(model.manufacturer == "Stiebel Eltron" && model.setup.contains("Port 502, unit id 1"))
        #expect(model.registers.filter { $0.registerType == .input }.allSatisfy { $0.address >= 500 })
        #expect(model.registers.filter { $0.registerType == .holding }.allSatisfy { $0.address >= 1500 })
        #expect(byName["outside_temperature"]?.unavailable == [-32768] && byName["operating_status"]?.unavailable == [], "0x8000, but not on the bit field")
    }

    @Test("every register decodes to hpsim's stiebel value; sensors not connected (0x8000) export nothing")
    func decodeAgainstSimulator() async throws {
        let model = try everyInstance()
        let points = Dictionary(try SimulatorProcess.dumpProfile("stiebel").map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let sim = try SimulatorProcess(["--tcp", "stiebel:0"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        let outcome = try await DecodeMatrixTests.poll(link, unit: 1, registers: model.registers)
        #expect(outcome.failure == nil && outcome.rejected.isEmpty, "\(outcome.rejected.map { model.registers[$0].name })")
        let samples = Dictionary(uniqueKeysWithValues: outcome.samples.map { ($0.name, $0) })
        var notConnected: Set = ["actual_temperature_fe7", "set_temperature_fe7", "actual_temperature_hk2", "set_temperature_hk2"]
        for r in model.registers where r.name.hasPrefix("heat_pump_") || (r.name.hasPrefix("room_module_") && !r.name.hasPrefix("room_module_1.")) {
            notConnected.insert(r.name)
        }
        #expect(model.registers.filter { $0.name.hasPrefix("heat_pump_6.") }.map(\.address) == Array(576...582), "ISG 577-583")
        #expect(model.registers.first { $0.name == "room_module_5.setpoint_cooling" }?.address == 607, "ISG 608")
        for r in model.registers {
            let point = try #require(points[r.name], "hpsim has \(r.name)")
            #expect(point.address == r.address && point.table == (r.registerType == .input ? "input" : "holding"), "\(r.name) at \(r.address)")
            if notConnected.contains(r.name) {
                #expect(samples[r.name] == nil, "\(r.name) reads 0x8000")
                continue
            }
            let sample = try #require(samples[r.name], "\(r.name) decoded")
            if point.constant, let want = point.physical {
                #expect(abs(sample.value.doubleValue - want) < 1e-6, "\(r.name): \(sample.value) != \(want)")
            }
        }
        #expect(samples["operating_mode"]?.label == "comfort" && samples["controller_identification"]?.label == "wpm_system")
        #expect(Set(model.registers.map(\.name)).intersection(samples.keys).count == model.registers.count - notConnected.count)
    }

    @Test("every writable register (modes, setpoints, curves, hot water, SG Ready inputs) is written through hpmanagerd at its ISG number minus one and reads back; out of range is refused unsent")
    func writeEveryParameter() async throws {
        try await LuxtronikDaikinModelTests.writeEveryParameter(.init(model: "stiebel_eltron_wpm", profile: "stiebel", maxRequests: 0, minimumWritable: 16))
    }

    @Test("HPManager's own Stiebel config loads beside the built-in (its model replaces it) and names the same registers at the same PDU addresses")
    func hpmanagerConfig() throws {
        let config = try loader.load(directory: HPManagerFixtures.directory)
        let theirs = try #require(config.models["stiebel_eltron_wpm"])
        #expect(theirs.registers.count == 29 && theirs.registers.first?.address == 506, "HPManager's 0-based map, unchanged: \(theirs.registers.count)")
        let ours = Dictionary(uniqueKeysWithValues: try builtin().registers.map { ($0.name, $0) })
        for r in theirs.registers {
            let mine = try #require(ours[r.name], "built-in has HPManager's \(r.name)")
            #expect(mine.address == r.address && mine.registerType == r.registerType && mine.scale == r.scale && mine.dataType == r.dataType,
                    "\(r.name): built-in \(mine.address) vs HPManager \(r.address)")
        }
    }

    @Test("hpmanagerd exports the built-in Stiebel model; promtool accepts every series name")
    func daemon() async throws {
        let sim = try SimulatorProcess(["--tcp", "stiebel:0"])
        let harness = try DaemonHarness(devices: [.init(id: "se1", port: sim.ports[0], model: "stiebel_eltron_wpm")], interval: 0.3)
        let daemon = try harness.start()
        let m = try await DaemonHarness.waitFor(daemon, "stiebel exported") { $0.has("heatpump_sg_ready_state_value", ["heatpump_id": "se1"]) || $0.has("heatpump_sg_ready_state", ["heatpump_id": "se1"]) }
        #expect(m.value("heatpump_comfort_temperature_hk1", ["heatpump_id": "se1"]) == 22)
        #expect(!m.has("heatpump_actual_temperature_fe7", ["heatpump_id": "se1"]), "not connected")
        let (status, output) = try Promtool.check(m.text)
        #expect(status == 0, "promtool: \(output)")
        #expect(daemon.process.stop() == 0)
    }
}
