import HPCore
import Testing

/// `data_type: string` + `length`, `bit`, and `float16` in registers.yml: accepted forms, and every
/// misuse refused with the file, the line of the offending key and the reason.
@Suite("String, bit and float16 registers in registers.yml", .harnessThreads)
struct RegisterTypeConfigTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])

    static func model(_ register: String) -> String { "models:\n  m:\n    unavailable: -32768\n    registers:\n" + register }

    typealias BadCase = RegistersBadCase

    static let badCases: [BadCase] = [
        BadCase(description: "string without length", registers: model("      - name: firmware\n        address: 1\n        data_type: string\n"),
                line: 7, fragment: "data_type string needs length: N registers (1-125"),
        BadCase(description: "string length 0", registers: model("      - name: firmware\n        address: 1\n        data_type: string\n        length: 0\n"),
                line: 8, fragment: "needs length: N registers"),
        BadCase(description: "string length beyond one read", registers: model("      - name: firmware\n        address: 1\n        data_type: string\n        length: 126\n"),
                line: 8, fragment: "must be between 0 and 125, found 126"),
        BadCase(description: "length on a number", registers: model("      - name: t\n        address: 1\n        length: 4\n"),
                line: 7, fragment: "length applies to data_type string only, found data_type int16"),
        BadCase(description: "writable string", registers: model("      - name: firmware\n        address: 1\n        data_type: string\n        length: 4\n        access: read_write\n"),
                line: 9, fragment: "string registers are read-only"),
        BadCase(description: "scaled string", registers: model("      - name: firmware\n        address: 1\n        data_type: string\n        length: 4\n        scale: 0.1\n"),
                line: 9, fragment: "a string register cannot be scaled"),
        BadCase(description: "string with enum_values", registers: model("      - {name: firmware, address: 1, data_type: string, length: 4, enum_values: {0: a}}\n"),
                line: 5, fragment: "a string register cannot have enum_values"),
        BadCase(description: "string with a sentinel", registers: model("      - {name: firmware, address: 1, data_type: string, length: 4, unavailable: 0}\n"),
                line: 5, fragment: "a string register has no raw sentinel values"),
        BadCase(description: "string running past 65535", registers: model("      - {name: firmware, address: 65530, data_type: string, length: 8}\n"),
                line: 5, fragment: "string needs 8 registers but only 6 remain"),
        BadCase(description: "bit 16", registers: model("      - name: pump\n        address: 1\n        data_type: uint16\n        bit: 16\n"),
                line: 8, fragment: "must be between 0 and 15, found 16"),
        BadCase(description: "negative bit", registers: model("      - name: pump\n        address: 1\n        bit: -1\n"),
                line: 7, fragment: "must be between 0 and 15, found -1"),
        BadCase(description: "bit of a 32-bit register", registers: model("      - name: pump\n        address: 1\n        data_type: uint32\n        bit: 3\n"),
                line: 8, fragment: "bit needs a 16-bit register (data_type int16 or uint16 on a holding or input register), found holding uint32"),
        BadCase(description: "bit of a coil", registers: model("      - name: pump\n        address: 1\n        register_type: coil\n        bit: 3\n"),
                line: 8, fragment: "bit needs a 16-bit register"),
        BadCase(description: "bit with scale", registers: model("      - name: pump\n        address: 1\n        bit: 3\n        scale: 0.1\n"),
                line: 8, fragment: "bit gives a boolean; it cannot be combined with scale or offset"),
        BadCase(description: "bit with bitmap_fields", registers: model("      - name: pump\n        address: 1\n        unit: bitmap\n        bitmap_fields: {0: a}\n        bit: 3\n"),
                line: 8, fragment: "bit and bitmap_fields both pick bits"),
        BadCase(description: "writable bit", registers: model("      - name: pump\n        address: 1\n        bit: 3\n        access: read_write\n"),
                line: 8, fragment: "a single bit cannot be written"),
        BadCase(description: "string info series clashes with a register",
                registers: model("      - {name: firmware, address: 1, data_type: string, length: 4}\n      - {name: firmware_info, address: 9}\n"),
                line: 6, fragment: "would both export heatpump_firmware_info"),
        BadCase(description: "float16 enum", registers: model("      - {name: t, address: 1, data_type: half, enum_values: {0: a}}\n"),
                line: 5, fragment: "enum_values need an integer data_type, found float16"),
    ]

    @Test("misused string, bit and float16 registers are rejected with file, line and reason", arguments: badCases)
    func rejects(_ bad: BadCase) throws {
        expectRegistersRejected(loader, registers: bad.registers, line: bad.line, fragment: bad.fragment, bad.description)
    }

    @Test("valid string, bit and float16 registers load; the model's numeric sentinels skip text")
    func accepts() throws {
        let text = Self.model("""
              - {name: firmware, address: 1, data_type: string, length: 8, byte_order: BADC}
              - {name: pump, address: 9, data_type: uint16, bit: 15}
              - {name: heater, address: 9, bit: 0, unavailable: 65535}
              - {name: flow, address: 10, data_type: f16, scale: 0.5, access: read_write, min: -10, max: 100}

        """)
        let config = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": text])
        let registers = try #require(config.models["m"]).registers
        #expect(registers.map(\.dataType) == [.string, .uint16, .int16, .float16])
        #expect(registers[0].length == 8 && registers[0].count == 8 && registers[0].byteOrder == .badc)
        #expect(registers[0].unavailable.isEmpty, "the model's -32768 is a number, not text")
        #expect(registers.map(\.bit) == [nil, 15, 0, nil])
        #expect(registers[1].unavailable == [-32768] && registers[2].unavailable == [65535])
        #expect(registers[3].count == 1 && registers[3].access == .readWrite)
    }

    @Test("an above/below alert on a string register is refused; on a bit register it loads")
    func alerts() throws {
        let registers = Self.model("      - {name: firmware, address: 1, data_type: string, length: 4}\n      - {name: pump, address: 9, bit: 1}\n")
        func collector(_ register: String) -> String { "alerts:\n  - name: a\n    register: \(register)\n    above: 0.5\n" }
        do {
            _ = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": registers, "collector.yml": collector("firmware")], directory: "/etc/hpm")
            Issue.record("an alert on text was accepted")
        } catch let errors as ConfigErrors {
            #expect(errors.errors.contains { $0.field == "alerts.a.register" && $0.message.contains("\"firmware\" is a string register; above/below compare numbers") },
                    "\(errors.description)")
        }
        _ = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": registers, "collector.yml": collector("pump")], directory: "/etc/hpm")
    }
}
