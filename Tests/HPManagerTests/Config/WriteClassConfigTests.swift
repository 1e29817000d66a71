import Drivers
import HPCore
import Testing

/// `write_class`, `refresh_interval`, `pulse_value` in registers.yml and `writes:` in collector.yml.
@Suite("Write classes in registers.yml and collector.yml", .harnessThreads)
struct WriteClassConfigTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])

    static func model(_ register: String) -> String { "models:\n  m:\n    registers:\n" + register }

    typealias BadCase = RegistersBadCase

    static let badCases: [BadCase] = [
        BadCase(description: "unknown class", registers: model("      - name: s\n        address: 1\n        access: read_write\n        write_class: flash\n"),
                line: 7, fragment: "unknown write_class \"flash\"; expected volatile, eeprom, pulse, cyclic"),
        BadCase(description: "class on a read-only register", registers: model("      - name: s\n        address: 1\n        write_class: eeprom\n"),
                line: 6, fragment: "write_class eeprom needs a writable register; \"s\" is access: read"),
        BadCase(description: "cyclic without interval", registers: model("      - name: s\n        address: 1\n        access: read_write\n        write_class: cyclic\n"),
                line: 7, fragment: "write_class cyclic needs refresh_interval"),
        BadCase(description: "interval on a volatile register", registers: model("      - name: s\n        address: 1\n        access: read_write\n        refresh_interval: 10m\n"),
                line: 7, fragment: "refresh_interval applies to write_class cyclic only, found volatile"),
        BadCase(description: "interval of zero", registers: model("      - name: s\n        address: 1\n        access: read_write\n        write_class: cyclic\n        refresh_interval: 0\n"),
                line: 8, fragment: "must be greater than 0, found 0"),
        BadCase(description: "pulse value on an eeprom register", registers: model("      - {name: s, address: 1, access: write, write_class: eeprom, pulse_value: 1}\n"),
                line: 4, fragment: "pulse_value applies to write_class pulse only, found eeprom"),
        BadCase(description: "pulse value out of range", registers: model("      - {name: s, address: 1, access: write, write_class: pulse, pulse_value: 7, max: 1}\n"),
                line: 4, fragment: "pulse_value 7.0 is above max 1.0"),
        BadCase(description: "eeprom: true contradicted", registers: model("      - name: s\n        address: 1\n        access: read_write\n        eeprom: true\n        write_class: cyclic\n"),
                line: 8, fragment: "write_class cyclic contradicts eeprom: true"),
    ]

    @Test("misused write classes are rejected with file, line and reason", arguments: badCases)
    func rejects(_ bad: BadCase) throws {
        expectRegistersRejected(loader, registers: bad.registers, line: bad.line, fragment: bad.fragment, bad.description)
    }

    @Test("write classes load; eeprom: true is write_class eeprom; the default is volatile")
    func accepts() throws {
        let text = Self.model("""
              - {name: a, address: 1, access: read_write}
              - {name: b, address: 2, access: read_write, eeprom: true}
              - {name: c, address: 3, access: read_write, write_class: EEPROM}
              - {name: d, address: 4, access: write, write_class: pulse, pulse_value: 1}
              - {name: e, address: 5, access: read_write, write_class: cyclic, refresh_interval: 10m}

        """)
        let registers = try #require(try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": text]).models["m"]).registers
        #expect(registers.map(\.writeClass) == [.volatile, .eeprom, .eeprom, .pulse, .cyclic])
        #expect(registers.map(\.eeprom) == [false, true, true, false, false])
        #expect(registers[3].pulseValue == 1 && registers[4].refreshInterval == 600)
    }

    @Test("collector.yml writes: eeprom_min_interval and eeprom_daily_cap, with defaults and bounds")
    func writesSection() throws {
        func load(_ collector: String) throws -> WriteSettings {
            try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "collector.yml": collector]).collector.writes
        }
        let defaults = try load("collector: {poll_interval: 30}\n")
        #expect(defaults.eepromMinInterval == 600 && defaults.eepromDailyCap == 24)
        let set = try load("writes:\n  eeprom_min_interval: 15m\n  eeprom_daily_cap: 4\n")
        #expect(set.eepromMinInterval == 900 && set.eepromDailyCap == 4)
        #expect(throws: ConfigErrors.self) { try load("writes:\n  eeprom_daily_cap: 0\n") }
        #expect(throws: ConfigErrors.self) { try load("writes:\n  eeprom_interval: 5m\n") }
    }

    @Test("built-in IDM: setpoints eeprom, GLT demand cyclic every 10 min, error acknowledge a write-only pulse")
    func builtinIDM() throws {
        let config = try ConfigLoader(builtinModelFiles: BuiltinModels.files).load(files: ["heatpumps.yml": "heatpumps: []\n"])
        let idm = try #require(config.models["idm_navigator_2"])
        func r(_ name: String) throws -> RegisterDefinition { try #require(idm.registers.first { $0.name == name }, "\(name)") }
        #expect(try r("system_mode").writeClass == .eeprom && r("dhw_setpoint").writeClass == .eeprom)
        for name in ["glt_temp_demand_heating", "glt_temp_demand_cooling"] {
            #expect(try r(name).writeClass == .cyclic && r(name).refreshInterval == 600 && r(name).address == Int(name.hasSuffix("heating") ? 1696 : 1698))
        }
        let ack = try r("error_acknowledge")
        #expect(ack.writeClass == .pulse && ack.pulseValue == 1 && ack.access == .write && ack.address == 1999)
    }
}
