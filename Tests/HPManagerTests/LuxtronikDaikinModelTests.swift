import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// Luxtronik 2.1 SHI (with mixing circuits 1-3) and Daikin Altherma HomeHub: the full built-in maps
/// through the real hpmanagerd against hpsim's own tables of each vendor.
@Suite("Luxtronik and Daikin maps through hpmanagerd", .harnessThreads, .serialized)
struct LuxtronikDaikinModelTests {
    struct Vendor: Sendable, CustomTestStringConvertible {
        var model: String
        var profile: String
        /// hpsim layout options (which optional blocks the simulated controller has).
        var layout: [String] = []
        /// The device's `config:` (template instances), YAML flow text.
        var config: String?
        /// Modbus requests one poll may take at most (the planner's count is asserted exactly).
        var maxRequests: Int
        /// Writable registers the map has at least.
        var minimumWritable = 0
        var testDescription: String { model }
    }

    static let vendors = [
        Vendor(model: "luxtronik_2_1", profile: "luxtronik", layout: ["--luxtronik-circuits", "1,3"], config: "{circuits: [1, 2, 3]}", maxRequests: 24, minimumWritable: 40),  // max_gap 0: runs of adjacent registers only
        Vendor(model: "daikin_altherma", profile: "daikin", maxRequests: 3, minimumWritable: 23),
    ]

    static let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])

    /// The device's expanded model and the planner's requests per poll with the default collector settings.
    static func model(_ vendor: Vendor) throws -> (ModelDefinition, Int) {
        let config = vendor.config.map { ", config: \($0)" } ?? ""
        let c = try loader.load(files: ["heatpumps.yml": "heatpumps:\n  - {id: d, model: \(vendor.model), modbus: {host: h}\(config)}\n"], directory: "/cfg")
        let model = try #require(c.model(for: c.devices[0]))
        return (model, PollingSettings(c.collector.collector).planner(for: model).plan(model.registers).count)
    }

    /// Modbus requests one poll of the built-in `model` takes (no templates chosen), from the planner.
    static func requestsPerPoll(_ model: String) throws -> Int {
        try Self.model(Vendor(model: model, profile: "", maxRequests: 0)).1
    }

    /// One control-socket command; the response's `result`.
    static func call(_ client: UnixSocketClient, _ json: String) -> [String: Any] {
        client.send(json + "\n")
        return ControlSocketTests.json(client.readLine(timeout: 10) ?? "")
    }

    /// A register's raw 16-bit words as the register's type puts `value` on the wire (16-bit types only).
    static func rawWord(_ r: RegisterDefinition, _ value: Double) -> Int {
        Int(((value - r.offset) / r.scale).rounded()) & 0xFFFF
    }

    @Test("the map is complete: every register has a description, enums have labels, writable ones have min/max; units and series names are sane",
          arguments: vendors)
    func schema(_ vendor: Vendor) throws {
        let (model, _) = try Self.model(vendor)
        #expect(model.registers.count >= (vendor.profile == "luxtronik" ? 90 : 53), "\(model.registers.count) registers")
        for r in model.registers {
            #expect(!r.description.isEmpty, "\(r.name) has a description")
            if r.unit == "enum" { #expect(r.enumValues.count >= 2, "\(r.name): enum labels") }
            if r.access.isWritable {
                #expect(r.min != nil && r.max != nil, "\(r.name): writable with a range")
                #expect(r.writeTable == .holding, "\(r.name): written as holding")
            }
        }
    }

    /// What a register becomes as an InfluxDB field (`field_types: native`): the field types one
    /// measurement holds must agree across models, or the server rejects the later writer.
    static func fieldKind(_ r: RegisterDefinition) -> String {
        if r.dataType == .string || r.isEnum { return "string" }
        if r.dataType == .bool || r.bit != nil { return "boolean" }
        let integer: Set<DataType> = [.int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64]
        return integer.contains(r.dataType) && r.scale == 1 && r.offset == 0 ? "integer" : "float"
    }

    @Test("a series name the Luxtronik or Daikin map shares with another built-in model has the same InfluxDB field kind there")
    func sharedNamesAgree() throws {
        let config = try Self.loader.load(files: ["heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
        var kinds: [String: [String: String]] = [:]  // series name → model → kind
        for model in config.models.values {
            for r in model.everyInstance.registers { kinds[r.instance?.series ?? r.name, default: [:]][model.name] = Self.fieldKind(r) }
        }
        var shared = 0
        for (name, byModel) in kinds.sorted(by: { $0.key < $1.key }) {
            let ours = byModel.filter { ["luxtronik_2_1", "daikin_altherma"].contains($0.key) }
            guard !ours.isEmpty, byModel.count > 1 else { continue }
            shared += 1
            for (model, kind) in ours {
                let others = byModel.filter { $0.key != model && $0.value != kind }
                #expect(others.isEmpty, "\(name): \(kind) in \(model), \(others)")
            }
        }
        #expect(shared >= 5, "outdoor_temp, flow_temp, return_temp, dhw_setpoint, … are shared")
    }

    @Test("every register decodes through hpmanagerd to hpsim's value; 'not available' values export nothing; enum samples carry labels; promtool accepts the metrics file; requests per poll as planned",
          arguments: vendors)
    func decodeThroughDaemon(_ vendor: Vendor) async throws {
        let (model, planned) = try Self.model(vendor)
        #expect(planned <= vendor.maxRequests, "\(vendor.model): \(planned) requests per poll")
        let points = Dictionary(try SimulatorProcess.dumpProfile(vendor.profile, arguments: vendor.layout).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let sim = try SimulatorProcess(vendor.layout + ["--tcp", "\(vendor.profile):0"])
        let harness = try DaemonHarness(devices: [.init(id: "d", port: sim.ports[0], model: vendor.model, config: vendor.config)], interval: 0.3)
        let daemon = try harness.start()
        let m = try await DaemonHarness.waitFor(daemon, "d polled") { DaemonHarness.up($0, "d") == 1 && $0.has("heatpump_outdoor_temp", ["heatpump_id": "d"]) }
        #expect(m.value("heatpump_modbus_requests", ["heatpump_id": "d"]) == Double(planned), "\(vendor.model): requests per poll as planned")
        #expect(m.value("heatpump_quarantined_registers", ["heatpump_id": "d"]) ?? 0 == 0)
        let (status, output) = try Promtool.check(m.text)
        #expect(status == 0, "promtool: \(output)")

        let client = try UnixSocketClient(path: harness.socketPath)
        let reply = Self.call(client, #"{"cmd":"read","args":{"id":"d"}}"#)
        let values = ((reply["result"] as? [String: Any])?["values"] as? [[String: Any]]) ?? []
        let samples = Dictionary(values.compactMap { v in (v["register"] as? String).map { ($0, v) } }, uniquingKeysWith: { a, _ in a })
        var checked = 0, absent = 0
        for r in model.registers {
            let point = try #require(points[r.name], "hpsim has \(r.name)")
            #expect(point.address == r.address && point.table == (r.registerType == .input ? "input" : "holding"), "\(r.name) at \(r.address)")
            if let raw = Int64(point.value), r.unavailable.contains(raw) {
                #expect(samples[r.name] == nil, "\(r.name): 'not available' exports nothing")
                absent += 1
                continue
            }
            let sample = try #require(samples[r.name], "\(r.name) decoded")
            if r.dataType == .string {
                #expect(sample["value"] as? String == point.value, "\(r.name)")
            } else if point.constant, let want = point.physical {
                let got = try #require(sample["value"] as? Double, "\(r.name) is a number")
                #expect(abs(got - want) < 1e-6, "\(r.name): \(got) != \(want)")
            } else {
                #expect((sample["value"] as? Double)?.isFinite == true, "\(r.name)")
            }
            if r.isEnum { #expect(sample["label"] as? String != nil, "\(r.name): enum value \(sample["value"] ?? "-") has a label") }
            checked += 1
        }
        #expect(checked + absent == model.registers.count)
        if vendor.profile == "luxtronik" {
            #expect(absent == 5, "room_temp and the 4 inputs of circuit 2 (not fitted)")
            #expect(m.value("heatpump_circuit_flow_temp", ["heatpump_id": "d", "circuit": "3"]) == 31.5, "circuit label on a shared series")
            #expect(!m.has("heatpump_circuit_flow_temp", ["heatpump_id": "d", "circuit": "2"]))
        } else {
            #expect(absent == 1, "the error sub-code reads 32766 (no error)")
            #expect(m.has("heatpump_unit_error_code_info", ["heatpump_id": "d", "value": ""]), "Text16 error code as an info series")
        }
        #expect(daemon.process.stop() == 0)
    }

    @Test("every writable register can be written through hpmanagerd, lands in hpsim's table and reads back", arguments: vendors)
    func writeEveryParameter(_ vendor: Vendor) async throws {
        try await Self.writeEveryParameter(vendor)
    }

    /// Writes every writable register of `vendor`'s map through hpmanagerd (another value in range),
    /// checks hpsim's table and the read-back, then that an out-of-range value is refused unsent.
    /// Also used by the Stiebel suite.
    static func writeEveryParameter(_ vendor: Vendor) async throws {
        let (model, _) = try Self.model(vendor)
        let points = Dictionary(try SimulatorProcess.dumpProfile(vendor.profile, arguments: vendor.layout).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let sim = try SimulatorProcess(vendor.layout + ["--tcp", "\(vendor.profile):0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "d", port: port, model: vendor.model, config: vendor.config)], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "d polled") { DaemonHarness.up($0, "d") == 1 }
        let client = try UnixSocketClient(path: harness.socketPath)
        let writable = model.registers.filter { $0.access.isWritable }
        #expect(writable.count >= vendor.minimumWritable, "\(writable.count) writable registers")
        for r in writable {
            let point = try #require(points[r.name], "hpsim has \(r.name)")
            let current = try #require(point.physical, "\(r.name) is numeric")
            let (low, high) = (try #require(r.min), try #require(r.max))
            // Another value in range: the other end of the range, or a label other than the current one.
            let target = current == high ? low : high
            let text: String
            if r.isEnum {
                let key = try #require(r.enumValues.keys.sorted().first { Double($0) != current && Double($0) >= low && Double($0) <= high }, "\(r.name)")
                text = try #require(r.enumValues[key])
            } else {
                text = "\(target)"
            }
            let want = r.isEnum ? Double(try #require(r.enumValues.first { $0.value == text }?.key)) : target
            let json = #"{"cmd":"write","args":{"id":"d","register":"\#(r.name)","value":"\#(text)"}}"#
            let reply = Self.call(client, json)
            let result = reply["result"] as? [String: Any]
            #expect(reply["ok"] as? Bool == true && result?["verified"] as? Bool == true, "\(r.name) = \(text): \(reply)")
            #expect(try sim.command("get \(port) 1 holding \(r.address)")["value"] as? Int == Self.rawWord(r, want), "\(r.name) = \(text) in hpsim")
        }
        // Still validated: out of range is refused and nothing reaches the device.
        let r = try #require(writable.first { !$0.isEnum })
        let before = try sim.command("get \(port) 1 holding \(r.address)")["value"] as? Int
        let over = try #require(r.max) + 1
        let refused = Self.call(client, #"{"cmd":"write","args":{"id":"d","register":"\#(r.name)","value":"\#(over)"}}"#)
        #expect(refused["ok"] as? Bool == false && "\(refused)".contains("above the maximum"), "\(refused)")
        #expect(try sim.command("get \(port) 1 holding \(r.address)")["value"] as? Int == before)
        #expect(daemon.process.stop() == 0)
    }
}
