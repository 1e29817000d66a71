import DeviceActor
import Drivers
import Foundation
import HPCore
import Sinks
import SQLiteKit
import Testing
import TestSupport

/// Circuits and zones: template registers expanded from a device's `config: {circuits: [A, B], zones: [0]}`.
@Suite("Templates: IDM circuits A-G and zones 0-9", .harnessThreads, .serialized)
struct TemplateTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])

    func load(_ device: String) throws -> Configuration {
        try loader.load(files: ["heatpumps.yml": "heatpumps:\n  - {id: a, model: idm_navigator_2, modbus: {host: h}\(device)}\n"], directory: "/cfg")
    }

    @Test("config: {circuits, zones} expands base + stride × index, with a label on a shared series")
    func expansion() throws {
        let config = try load(", config: {circuits: [A, C], zones: [1], rooms: [2]}")
        let device = try #require(config.devices.first)
        #expect(device.templateConfig == ["circuits": ["A", "C"], "zones": ["1"], "rooms": ["2"]])
        let model = try #require(config.model(for: device))
        let byName = Dictionary(uniqueKeysWithValues: model.registers.map { ($0.name, $0) })
        #expect(byName["circuit_a.flow_temp"]?.address == 1350)
        #expect(byName["circuit_c.flow_temp"]?.address == 1354, "float column: stride 2")
        #expect(byName["circuit_c.mode"]?.address == 1395, "byte column: stride 1")
        #expect(byName["circuit_c.external_room_temp"]?.address == 1654)
        #expect(byName["circuit_b.flow_temp"] == nil, "only the circuits the device names")
        #expect(byName["zone_1.mode"]?.address == 2065)
        #expect(byName["zone_1.room_2.setpoint"]?.address == 2065 + 2 + 7 + 2, "zone stride 65, room stride 7")
        #expect(byName["zone_1.room_1.temp"] == nil, "rooms: [2] picks room 2 only")
        let c = try #require(byName["circuit_c.room_setpoint_normal"])
        #expect(c.instance?.series == "circuit_room_setpoint_normal" && c.instance?.labels == [SeriesLabel(name: "circuit", value: "C")])
        #expect(c.access == .readWrite && c.writeTable == .holding && c.eeprom && c.min == 15 && c.max == 30)
        let room = try #require(byName["zone_1.room_2.mode"])
        #expect(room.instance?.series == "zone_room_mode" && room.instance?.labels.map(\.value) == ["1", "2"])
        #expect(model.registers.filter { $0.name.hasPrefix("circuit_a.") }.count == 16, "16 registers per circuit")
        let fullZone = try load(", config: {circuits: [], zones: [0]}")
        let zoneModel = try #require(fullZone.model(for: fullZone.devices[0]))
        #expect(zoneModel.registers.filter { $0.name.hasPrefix("zone_0.") }.count == 42, "42 registers per zone module")
        #expect(zoneModel.registers.filter { $0.name.hasPrefix("circuit_") }.isEmpty, "circuits: [] means none")

        let plain = try load("")
        let defaults = try #require(plain.model(for: plain.devices[0]))
        #expect(defaults.registers.filter { $0.instance != nil }.map(\.name).allSatisfy { $0.hasPrefix("circuit_a.") }, "default: circuit A, no zone")
    }

    @Test("a config that does not fit the model is refused with file, line and the valid names", arguments: [
        (", config: {circuits: [H]}", "circuit \"H\" does not exist; expected some of A, B, C, D, E, F, G"),
        (", config: {circuits: [A, A]}", "listed twice"),
        (", config: {circuitz: [A]}", "no config key \"circuitz\"; expected circuits, zones, rooms"),
        (", config: {zones: [10]}", "zone \"10\" does not exist"),
    ])
    func refused(_ device: String, _ message: String) throws {
        do {
            _ = try load(device)
            Issue.record("accepted \(device)")
        } catch let errors as ConfigErrors {
            let error = try #require(errors.errors.first)
            #expect(error.file == "/cfg/heatpumps.yml" && error.line == 2 && error.field.hasSuffix("config"), "\(error)")
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("the runtime device parser (socket add/update, later HTTP) takes the same config key")
    func runtimeSpec() throws {
        let models = try load("").models
        let device = try loader.parseDevice(text: #"{"id": "r", "model": "idm_navigator_2", "config": {"circuits": ["B"], "zones": [0]}, "modbus": {"host": "h"}}"#,
                                            source: "socket", models: models, defaultPollInterval: 10)
        #expect(device.templateConfig == ["circuits": ["B"], "zones": ["0"]])
        #expect(throws: ConfigError.self) {
            try loader.parseDevice(text: #"{"id": "r", "model": "nibe_s1155", "config": {"circuits": ["A"]}, "modbus": {"host": "h"}}"#,
                                   source: "socket", models: models, defaultPollInterval: 10)
        }
    }

    @Test("a user model can define templates; a stride that runs past 65535 or a bad label is refused")
    func userTemplates() throws {
        let good = """
        models:
          my:
            registers: [{name: outdoor, address: 1}]
            templates:
              loops: {label: loop, instances: [x, y], default: [y], stride: 10, registers: [{name: temp, address: 100, scale: 0.1}]}
        """
        let config = try loader.load(files: ["registers.yml": good, "heatpumps.yml": "heatpumps:\n  - {id: a, model: my, modbus: {host: h}}\n"], directory: "/cfg")
        let model = try #require(config.model(for: config.devices[0]))
        #expect(model.registers.map(\.name) == ["outdoor", "loop_y.temp"] && model.registers[1].address == 110)
        for (bad, message) in [
            ("{label: loop, instances: [x, y], stride: 65535, registers: [{name: temp, address: 100}]}", "beyond 65535"),
            ("{label: \"lo-op\", instances: [x], registers: [{name: temp, address: 100}]}", "label \"lo-op\""),
            ("{label: loop, instances: [x], default: [z], registers: [{name: temp, address: 100}]}", "default instance \"z\""),
            ("{label: loop, instances: [x], registers: [{name: temp, address: 100, strid: 2}]}", "unknown key 'strid'"),
        ] {
            let text = "models:\n  my:\n    registers: [{name: outdoor, address: 1}]\n    templates:\n      loops: \(bad)\n"
            #expect(throws: ConfigErrors.self) { try loader.load(files: ["registers.yml": text, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg") }
            do { _ = try loader.load(files: ["registers.yml": text, "heatpumps.yml": "heatpumps: []\n"], directory: "/cfg") } catch let e as ConfigErrors {
                #expect(e.errors.contains { $0.message.contains(message) && $0.file == "/cfg/registers.yml" && $0.line > 0 }, "\(e)")
            }
        }
    }

    @Test("every IDM register (system table and expanded circuits/zones) decodes to hpsim's own tables; absent blocks answer Illegal Data Address")
    func decodeAgainstSimulator() async throws {
        let config = try load(", config: {circuits: [A, B, C, D, E, F, G], zones: [0, 1, 2]}")
        let model = try #require(config.model(for: config.devices[0]))
        let points = Dictionary(try SimulatorProcess.dumpProfile("idm").map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let sim = try SimulatorProcess(["--tcp", "idm:0", "--idm-circuits", "A,C", "--idm-zones", "0,1"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        let outcome = try await DecodeMatrixTests.poll(link, unit: 1, registers: model.registers)
        #expect(outcome.failure == nil)
        let samples = Dictionary(uniqueKeysWithValues: outcome.samples.map { ($0.name, $0) })
        let rejected = Set(outcome.rejected.map { model.registers[$0].name })
        var checked = 0
        for r in model.registers where r.access.isReadable {
            let present = r.instance == nil || r.name.hasPrefix("circuit_a.") || r.name.hasPrefix("circuit_c.") || r.name.hasPrefix("zone_0.") || r.name.hasPrefix("zone_1.")
            guard present else {
                #expect(rejected.contains(r.name) && samples[r.name] == nil, "\(r.name) is absent: Illegal Data Address")
                continue
            }
            let point = try #require(points[r.name], "hpsim has \(r.name)")
            #expect(point.address == r.address && point.table == "input", "\(r.name) at \(r.address)")
            let sample = try #require(samples[r.name], "\(r.name) decoded")
            #expect(sample.instance === r.instance || sample.instance == r.instance)
            if point.constant, let want = Double(point.value) {
                #expect(abs(sample.value.doubleValue - want) < 1e-4, "\(r.name): \(sample.value) != \(want)")
            } else {
                #expect(sample.value.doubleValue.isFinite, "\(r.name)")
            }
            checked += 1
        }
        let plain = model.registers.filter { $0.instance == nil && $0.access.isReadable }.count
        #expect(plain >= 150, "the system table: \(plain)")
        #expect(checked == plain + 2 * 16 + 2 * 42)
    }

    @Test("hpmanagerd: circuit/zone labels in the metrics file, tags in Influx lines, unique names in SQLite; socket add with --config")
    func daemonOutputs() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0", "--idm-circuits", "A,C", "--idm-zones", "1"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2", config: "{circuits: [A, C], zones: [1], rooms: [1, 2]}")],
                                        interval: 0.3)
        let daemon = try harness.start()
        let a = ["heatpump_id": "idm1", "circuit": "A"], c = ["heatpump_id": "idm1", "circuit": "C"]
        let metrics = try await DaemonHarness.waitFor(daemon, "circuits exported") { $0.has("heatpump_circuit_room_temp", c) }
        #expect(metrics.value("heatpump_circuit_room_temp", a) == 20.5 && metrics.value("heatpump_circuit_room_temp", c) == 21.5)
        #expect(metrics.has("heatpump_circuit_mode_state", c.merging(["state": "normal"]) { $1 }), "enum state beside the circuit label")
        #expect(metrics.value("heatpump_zone_room_humidity", ["heatpump_id": "idm1", "zone": "1", "room": "2"]) == 42)
        #expect(!metrics.has("heatpump_circuit_room_temp", ["circuit": "B"]))

        // A template register is written like any other, by its unique name (FC16 at the FC04 address).
        var r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "circuit_c.room_setpoint_normal", "22.5"])
        #expect(r.0 == 0 && r.1.contains("verified"), "\(r.1) \(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "next poll reads 22.5") { $0.value("heatpump_circuit_room_setpoint_normal", c) == 22.5 }

        // The socket's add takes the same config key (hpmanagerctl --config).
        r = try ControlSocketTests.ctl(harness.socketPath, ["add", "--id", "rt", "--model", "idm_navigator_2", "--host", "127.0.0.1", "--port", "\(port)",
                                                            "--poll-interval", "0.3", "--config", "circuits=C", "--config", "zones="])
        #expect(r.0 == 0, "\(r.1) \(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "runtime device with circuit C") { $0.has("heatpump_circuit_flow_temp", ["heatpump_id": "rt", "circuit": "C"]) }
        // Setup instructions and the model's circuits/zones, as the socket's models command returns them.
        r = try ControlSocketTests.ctl(harness.socketPath, ["models", "show", "idm_navigator_2"])
        #expect(r.0 == 0 && r.1.contains("Modbus TCP") && r.1.contains("Port 502, unit id 1") && r.1.contains("config.circuits: A,B,C,D,E,F,G (default: A)"), "\(r.1) \(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["models", "--json"])
        let models = (ControlSocketTests.json(r.1)["models"] as? [[String: Any]]) ?? []
        for model in models where model["source"] as? String == "builtin" {
            #expect((model["setup"] as? String)?.contains("unit id") == true, "\(model["name"] ?? "?") has setup text")
        }
        r = try ControlSocketTests.ctl(harness.socketPath, ["models", "show", "nope"])
        #expect(r.0 != 0 && r.2.contains("unknown model nope"), "\(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["add", "--id", "bad", "--model", "idm_navigator_2", "--host", "127.0.0.1", "--config", "circuits=Q"])
        #expect(r.0 != 0 && r.2.contains("circuit \"Q\" does not exist"), "\(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "rows written") { ($0.value("hpmanager_sqlite_rows_written_total") ?? 0) >= 3 }
        #expect(daemon.process.stop() == 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let row = try #require(try db.query(#"SELECT json_extract(data, '$."circuit_c.room_temp"'), json_extract(data, '$."zone_1.room_2.humidity"'), json_extract(data, '$."circuit_c.mode_label"') FROM readings WHERE heatpump_id = 'idm1' ORDER BY at DESC LIMIT 1"#).first)
        #expect(row == [.real(21.5), .integer(42), .text("normal")], "\(row)")
    }

    @Test("Influx: one line per instance with its labels as tags and the shared field names")
    func lineProtocol() {
        let a = SeriesInstance(series: "circuit_flow_temp", labels: [SeriesLabel(name: "circuit", value: "A")])
        let c = SeriesInstance(series: "circuit_flow_temp", labels: [SeriesLabel(name: "circuit", value: "C")])
        let cMode = SeriesInstance(series: "circuit_mode", labels: [SeriesLabel(name: "circuit", value: "C")])
        let report = PollReport(device: DeviceLabels(id: "idm1", name: "IDM", location: "", model: "idm_navigator_2", manufacturer: "IDM"), timestamp: 100, samples: [
            Sample(register: 0, name: "outdoor_temp", value: .double(4.5)),
            Sample(register: 1, name: "circuit_a.flow_temp", value: .double(35), instance: a),
            Sample(register: 2, name: "circuit_c.flow_temp", value: .double(33), instance: c),
            Sample(register: 3, name: "circuit_c.mode", value: .int(2), label: "normal", instance: cMode),
        ], status: DeviceStatus())
        let lines = LineProtocol.line(report, precision: .s)?.split(separator: "\n").map(String.init)
        #expect(lines == [
            "heatpump_metrics,heat_pump_id=idm1,model=idm_navigator_2,name=IDM outdoor_temp=4.5 100",
            "heatpump_metrics,heat_pump_id=idm1,model=idm_navigator_2,name=IDM,circuit=A circuit_flow_temp=35.0 100",
            "heatpump_metrics,heat_pump_id=idm1,model=idm_navigator_2,name=IDM,circuit=C circuit_flow_temp=33.0,circuit_mode=\"normal\",circuit_mode_value=2.0 100",
        ])
    }
}
