import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// `hpmanagerctl detect`: a handful of identifying reads per model through the daemon's poller,
/// a proposed model, and the circuits / zones / climate systems that answer.
@Suite("Auto-detection (hpmanagerctl detect)", .harnessThreads, .serialized)
struct DetectTests {
    static func register(_ name: String, unit: String = "", enumValues: [Int64: String] = [:], min: Double? = nil, max: Double? = nil) -> RegisterDefinition {
        RegisterDefinition(name: name, address: 0, registerType: .input, dataType: .int16, byteOrder: .abcd, unit: unit, scale: 1, offset: 0,
                           description: "", enumValues: enumValues, unavailable: [], access: .read, min: min, max: max, eeprom: false,
                           metricType: nil, bitmapFields: [])
    }

    @Test("evidence: enum values, min/max and temperature ranges refute; zero and 'not available' are no evidence", arguments: [
        (register("mode", unit: "enum", enumValues: [1: "a"]), 1.0, "a", ModelDetection.Evidence.plausible(1)),
        (register("mode", unit: "enum", enumValues: [1: "a"]), 7.0, "unknown_7", .implausible("7 is none of its enum values")),
        (register("setpoint", min: 30, max: 60), 0.0, nil, .implausible("0 is below its minimum 30")),
        (register("temp", unit: "celsius"), 655.35, nil, .implausible("655.35 °C is not a plausible temperature")),
        (register("temp", unit: "celsius"), 0.0, nil, .zero),
        (register("temp", unit: "celsius"), 21.5, nil, .plausible(21.5)),
    ] as [(RegisterDefinition, Double, String?, ModelDetection.Evidence)])
    func evidence(_ r: RegisterDefinition, _ value: Double, _ label: String?, _ want: ModelDetection.Evidence) {
        let sample = Sample(register: 0, name: r.name, value: .double(value), label: label)
        #expect(ModelDetection.evidence(r, sample: sample, refused: false) == want)
        #expect(ModelDetection.evidence(r, sample: nil, refused: false) == .unavailable)
        #expect(ModelDetection.evidence(r, sample: sample, refused: true) == .refused)
    }

    @Test("a model is proposed when nothing refutes it and half its probes support it; zeros alone never propose")
    func verdicts() {
        let strong = ModelDetection.candidate("a", [("x", .plausible(1)), ("y", .plausible(2)), ("z", .zero)])
        let refuted = ModelDetection.candidate("b", [("x", .plausible(1)), ("y", .plausible(2)), ("z", .plausible(3)), ("w", .refused)])
        let zeros = ModelDetection.candidate("c", [("x", .zero), ("y", .zero), ("z", .unavailable)])
        #expect(strong.viable && abs(strong.confidence - 2.0 / 3) < 1e-9 && strong.reason.contains("plausible: x, y"))
        #expect(!refuted.viable && refuted.reason.contains("w: Illegal Data Address"))
        #expect(!zeros.viable && zeros.reason.contains("no evidence"))
        #expect(ModelDetection.proposal([zeros, refuted, strong])?.model == "a")
        #expect(ModelDetection.proposal([zeros, refuted]) == nil)
    }

    @Test("every built-in model has detect: registers; a detect: name that is no register of the model is refused with file and line")
    func schema() throws {
        let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])
        let config = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
        for model in config.models.values {
            #expect(ModelDetection.probes(model).count == model.detect.count && model.detect.count >= 3, "\(model.name)")
        }
        let text = "models:\n  my:\n    detect: [outdoor, nope]\n    registers: [{name: outdoor, address: 1}]\n"
        do {
            _ = try loader.load(files: ["registers.yml": text, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
            Issue.record("accepted detect: [nope]")
        } catch let e as ConfigErrors {
            #expect(e.errors.contains { $0.message.contains("detect names \"nope\"") && $0.file == "/cfg/registers.yml" && $0.line == 3 }, "\(e)")
        }
        let inherited = "models:\n  my:\n    extends: nibe_s1155\n    registers: []\n"
        let child = try loader.load(files: ["registers.yml": inherited, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
        #expect(child.models["my"]?.detect == child.models["nibe_s1155"]?.detect, "extends inherits detect:")
    }

    @Test("each vendor's hpsim profile is recognised with the blocks it has; a non-heat-pump device gets no proposal and a clear message")
    func daemonDetects() async throws {
        let sim = try SimulatorProcess(["--idm-circuits", "A,C", "--idm-zones", "1", "--nibe-systems", "1,2",
                                        "--tcp", "idm:0", "--tcp", "nibe:0", "--tcp", "luxtronik:0", "--tcp", "daikin:0", "--tcp", "stiebel:0",
                                        "--tcp", "refusing:0"])
        let harness = try DaemonHarness(devices: [], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "daemon running") { _ in FileManager.default.fileExists(atPath: harness.socketPath) }
        let expected: [(String, [String: [String]])] = [
            ("idm_navigator_2", ["circuits": ["A", "C"], "zones": ["1"]]), ("nibe_s1155", ["climate_systems": ["1", "2"], "cascade_modules": [], "systems_5_8": [], "flm_modules": ["1", "2", "3", "4"], "ecs": ["1", "2", "3"]]),
            ("luxtronik_2_1", ["circuits": ["1"]]), ("daikin_altherma", [:]), ("stiebel_eltron_wpm", ["heat_pumps": [], "room_modules": ["1"]]),
        ]
        for (index, (model, config)) in expected.enumerated() {
            let r = try ControlSocketTests.ctl(harness.socketPath, ["detect", "127.0.0.1:\(sim.ports[index])", "--json"])
            #expect(r.0 == 0, "\(model): \(r.1) \(r.2)")
            let proposal = ControlSocketTests.json(r.1)["proposal"] as? [String: Any]
            #expect(proposal?["model"] as? String == model, "\(model): \(r.1)")
            #expect((proposal?["config"] as? [String: [String]] ?? [:]) == config, "\(model) blocks: \(r.1)")
            let others = (ControlSocketTests.json(r.1)["candidates"] as? [[String: Any]] ?? []).filter { $0["model"] as? String != model }
            #expect(others.allSatisfy { $0["viable"] as? Bool == false }, "\(model): no other model fits: \(r.1)")
        }
        // Text output: the proposal as an add command.
        var r = try ControlSocketTests.ctl(harness.socketPath, ["detect", "127.0.0.1:\(sim.ports[0])", "--unit", "1", "--timeout", "0.5"])
        #expect(r.0 == 0 && r.1.contains("looks like idm_navigator_2") && r.1.contains("--config circuits=A,C --config zones=1"), "\(r.1)")

        r = try ControlSocketTests.ctl(harness.socketPath, ["detect", "127.0.0.1:\(sim.ports[5])"])
        #expect(r.0 == 1 && r.1.contains("Illegal Data Address everywhere") && r.1.contains("not a supported heat pump"), "\(r.1) \(r.2)")

        r = try ControlSocketTests.ctl(harness.socketPath, ["detect", "127.0.0.1:\(sim.ports[0])", "--unit", "300"])
        #expect(r.0 == 1 && r.2.contains("\"unit\" must be a whole number within 0-255"), "\(r.2)")
        #expect(daemon.process.stop() == 0)
    }

    @Test("nobody listening: a device error, not a proposal")
    func unreachable() async throws {
        let harness = try DaemonHarness(devices: [], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "daemon running") { _ in FileManager.default.fileExists(atPath: harness.socketPath) }
        let port = 1  // tcpmux: nothing listens there on a test machine; the connection is refused
        let r = try ControlSocketTests.ctl(harness.socketPath, ["detect", "127.0.0.1:\(port)", "--timeout", "0.3"])
        #expect(r.0 == 1 && r.2.contains("device_error") && r.2.contains("does not answer"), "\(r.1) \(r.2)")
        #expect(daemon.process.stop() == 0)
    }
}
