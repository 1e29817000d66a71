import Drivers
import HPCore
import Testing
import TestSupport

@Suite("Configuration loading", .harnessThreads)
struct ConfigLoaderTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: ["INFLUXDB_TOKEN": "secret-token"])

    @Test("HPManager's own files load unchanged, with defaults and ${VAR} expansion")
    func hpmanagerFilesLoad() throws {
        let dir = try ConfigFixtures.directory()
        let config = try loader.load(directory: dir.path)
        #expect(config.devices.count == 2)
        let hp1 = try #require(config.device("hp1"))
        #expect(hp1.name == "Main Heat Pump")
        #expect(hp1.modbus.transport == .tcp(host: "127.0.0.1", port: 502))
        #expect(hp1.modbus.timeout == 5 && hp1.modbus.retries == 3 && hp1.modbus.retryDelay == 1)
        #expect(hp1.pollInterval == 10, "device poll interval defaults to collector.poll_interval")
        let hp3 = try #require(config.device("hp3"))
        #expect(!hp3.enabled)
        #expect(hp3.modbus.transport == .rtu(SerialSettings(device: "/dev/ttyUSB0", baudrate: 9600, bytesize: 8, parity: "N", stopbits: 1)))
        let model = try #require(config.models["stiebel_eltron_wpm"])
        #expect(model.registers.count == 5)
        let mode = try #require(model.registers.first { $0.name == "operating_mode" })
        #expect(mode.address == 1501 && mode.registerType == .holding && mode.isEnum && mode.enumValues[2] == "Programmed operation")
        #expect(model.registers.first { $0.name == "operating_status" }?.isBitmap == true)
        #expect(config.collector.influxdb.url == "http://influxdb:8086")
        #expect(config.collector.influxdb.token == "secret-token")
        #expect(config.collector.influxdb.version == 2)
        #expect(config.collector.logging.level == "info" && config.collector.logging.format == .json)
        #expect(config.collector.logging.file == "/var/log/hpm-collector.log")
        #expect(config.models["idm_navigator_2"] != nil, "built-in models are always available")
    }

    @Test("Built-in models resolve and validate")
    func builtinModels() throws {
        let dir = try ConfigFixtures.directory(devices: "heatpumps: []", registers: nil, collector: nil)
        let config = try loader.load(directory: dir.path)
        for name in ["idm_navigator_2", "nibe_s1155", "luxtronik_2_1", "daikin_altherma"] {
            let model = try #require(config.models[name], "\(name)")
            #expect(!model.registers.isEmpty)
            #expect(!model.manufacturer.isEmpty)
        }
        let daikin = try #require(config.models["daikin_altherma"])
        #expect(daikin.registers.first { $0.name == "outdoor_temp" }?.address == 43, "1-based register 44 goes on the wire as PDU 43")
        let nibe = try #require(config.models["nibe_s1155"])
        #expect(nibe.registers.allSatisfy { $0.writeByteOrder == .abcd && $0.writeMultiple })
        let idm = try #require(config.models["idm_navigator_2"])
        #expect(idm.registers.first { $0.name == "outdoor_temp" }?.byteOrder == .cdab)
    }

    @Test("extends inherits registers and overrides by name")
    func extends() throws {
        let registers = """
        models:
          my_idm:
            extends: idm_navigator_2
            registers:
              - {name: outdoor_temp, address: 1000, register_type: input, data_type: float32, description: mine}
              - {name: extra_sensor, address: 1690, register_type: input, data_type: float32}
        """
        let devices = "heatpumps:\n  - {id: a, model: my_idm, modbus: {host: 127.0.0.1}}\n"
        let dir = try ConfigFixtures.directory(devices: devices, registers: registers, collector: nil)
        let config = try loader.load(directory: dir.path)
        let model = try #require(config.models["my_idm"])
        #expect(model.manufacturer == "IDM")
        let outdoor = try #require(model.registers.first { $0.name == "outdoor_temp" })
        #expect(outdoor.description == "mine" && outdoor.byteOrder == .cdab, "model byte order is inherited")
        #expect(model.registers.contains { $0.name == "extra_sensor" })
        #expect(model.registers.contains { $0.name == "hp_flow_temp" })
    }

    struct BadCase: Sendable, CustomStringConvertible {
        var description: String
        var file: String
        var text: String
        var line: Int
        var fragment: String
    }

    static let badCases: [BadCase] = [
        BadCase(description: "unknown key (typo)", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    enabeld: true\n    modbus: {host: h}\n",
                line: 4, fragment: "unknown key 'enabeld' (did you mean 'enabled'?)"),
        BadCase(description: "host with a space", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    modbus: {host: \"plant room\"}\n", line: 4,
                fragment: "host must be a host name or IP address"),
        BadCase(description: "host with a control character", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    modbus: {host: \"h\\u0005x\"}\n", line: 4,
                fragment: "found \"h\\u{05}x\""),
        BadCase(description: "duplicate id", file: "heatpumps.yml",
                text: "heatpumps:\n  - {id: a, model: idm_navigator_2, modbus: {host: h}}\n  - {id: a, model: idm_navigator_2, modbus: {host: h}}\n",
                line: 3, fragment: "duplicate id \"a\""),
        BadCase(description: "unknown model", file: "heatpumps.yml",
                text: "heatpumps:\n  - {id: a, model: nope, modbus: {host: h}}\n", line: 2, fragment: "unknown model \"nope\""),
        BadCase(description: "port out of range", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    modbus:\n      host: h\n      port: 70000\n",
                line: 6, fragment: "port 70000 is out of range"),
        BadCase(description: "bad parity", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    modbus:\n      type: rtu\n      port: /dev/ttyS0\n      parity: X\n",
                line: 7, fragment: "parity must be N, E or O"),
        BadCase(description: "address out of range", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: r, address: 70000}\n", line: 4, fragment: "address 70000 is out of range"),
        BadCase(description: "data type needs more registers than remain", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: r, address: 65534, data_type: float64}\n", line: 4, fragment: "needs 4 registers"),
        BadCase(description: "bad byte order", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - name: r\n        address: 1\n        byte_order: XYZW\n", line: 6, fragment: "unknown byte_order \"XYZW\""),
        BadCase(description: "enum on a float", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: r, address: 1, data_type: float32, enum_values: {0: off}}\n", line: 4, fragment: "enum_values need an integer data_type"),
        BadCase(description: "duplicate register name", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: r, address: 1}\n      - {name: r, address: 2}\n", line: 5, fragment: "register name \"r\" is already used at line 4"),
        BadCase(description: "register shadows a daemon metric", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: up, address: 1}\n", line: 4, fragment: "collides with the daemon's own metric"),
        BadCase(description: "writable input register without write_register_type", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: r, address: 1}\n      - {name: s, address: 2, register_type: input, access: write}\n",
                line: 5, fragment: "input registers can never be written; add write_register_type: holding"),
        BadCase(description: "writable discrete input", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: s, address: 2, register_type: discrete, access: read_write}\n",
                line: 4, fragment: "add write_register_type: coil"),
        BadCase(description: "write_register_type names a read-only table", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - name: s\n        address: 2\n        write_register_type: input\n",
                line: 6, fragment: "unknown write_register_type \"input\"; expected holding or coil"),
        BadCase(description: "word register written as a coil", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: s, address: 2, register_type: input, write_register_type: coil, access: read_write}\n",
                line: 4, fragment: "input registers cannot be written as coil"),
        BadCase(description: "YAML syntax error", file: "collector.yml",
                text: "collector:\n  poll_interval: [1, 2\n", line: 3, fragment: "YAML syntax error"),
        BadCase(description: "negative poll interval", file: "collector.yml",
                text: "collector:\n  poll_interval: -5\n", line: 2, fragment: "must be greater than 0"),
        BadCase(description: "bad log level", file: "collector.yml",
                text: "logging:\n  level: LOUD\n", line: 2, fragment: "unknown level \"LOUD\""),
        BadCase(description: "unknown section", file: "collector.yml",
                text: "colector:\n  poll_interval: 5\n", line: 1, fragment: "unknown key 'colector'"),
    ]

    @Test("Invalid configurations are rejected with file, line, field and reason", arguments: badCases)
    func rejects(_ bad: BadCase) throws {
        var files = ["heatpumps.yml": "heatpumps: []\n", "registers.yml": "models: {}\n", "collector.yml": ""]
        files[bad.file] = bad.text
        let dir = try TemporaryDirectory(prefix: "hpm-bad")
        for (name, text) in files { try dir.write(name, text) }
        do {
            _ = try loader.load(directory: dir.path)
            Issue.record("expected \(bad.description) to be rejected")
        } catch let errors as ConfigErrors {
            let match = errors.errors.first { $0.file.hasSuffix(bad.file) && $0.description.contains(bad.fragment) }
            #expect(match != nil, "got: \(errors.description)")
            #expect(match?.line == bad.line, "line of \(String(describing: match))")
        }
    }

    @Test("Environment expansion: ${VAR}, ${VAR:-default}, unset → empty")
    func expansion() throws {
        let e = EnvironmentExpander(environment: ["A": "x", "EMPTY": ""])
        #expect(try e.expand("${A}") == "x")
        #expect(try e.expand("pre-${A}-post") == "pre-x-post")
        #expect(try e.expand("${B:-fallback}") == "fallback")
        #expect(try e.expand("${EMPTY:-fallback}") == "fallback")
        #expect(try e.expand("${B}") == "")
        #expect(throws: EnvironmentExpander.UnterminatedReference.self) { try e.expand("${A") }
    }

    @Test("Defaults for missing optional keys")
    func defaults() throws {
        let devices = "heatpumps:\n  - {id: a, model: nibe_s1155, modbus: {host: 10.0.0.1}}\n"
        let dir = try ConfigFixtures.directory(devices: devices, registers: nil, collector: nil)
        let config = try loader.load(directory: dir.path)
        let a = try #require(config.device("a"))
        #expect(a.name == "a" && a.location == "" && a.enabled)
        #expect(a.modbus.transport == .tcp(host: "10.0.0.1", port: 502))
        #expect(a.modbus.unitID == 1 && a.modbus.timeout == 5 && a.modbus.retries == 3)
        #expect(a.pollInterval == 30)
        #expect(config.collector.supervisor.maxRestarts == 5)
        #expect(config.collector.metricsFile.path.hasSuffix(".prom"))
        #expect(!config.collector.influxdb.enabled)
    }
}
