import Drivers
import HPCore
import Sinks
import Testing
import TestSupport

/// `bitmap_fields`: validation with file:line, and decoding into one boolean sample per named bit.
@Suite("Bitmap fields", .harnessThreads)
struct BitmapFieldsTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])

    static func model(_ register: String, _ more: String = "") -> String {
        "models:\n  m:\n    registers:\n" + register + more
    }

    static let status = """
          - name: operating_status
            address: 2500
            data_type: uint16
            unit: bitmap
            bitmap_fields:
              0: "hc1_pump"
              6: "compressor_running"

    """

    typealias BadCase = RegistersBadCase

    static let badCases: [BadCase] = [
        BadCase(description: "bit beyond a uint16", registers: model(status.replacingOccurrences(of: "6: ", with: "16: ")),
                line: 10, fragment: "bit 16 does not exist in a uint16 register (bits 0-15)"),
        BadCase(description: "bit beyond a uint8", registers: model(status.replacingOccurrences(of: "uint16", with: "uint8").replacingOccurrences(of: "6: ", with: "8: ")),
                line: 10, fragment: "bit 8 does not exist in a uint8 register"),
        BadCase(description: "negative bit", registers: model(status.replacingOccurrences(of: "0: ", with: "-1: ")),
                line: 9, fragment: "bit -1 does not exist"),
        BadCase(description: "huge bit number", registers: model(status.replacingOccurrences(of: "6: ", with: "999999999999999999999999: ")),
                line: 10, fragment: "bitmap_fields keys must be bit numbers"),
        BadCase(description: "same bit twice", registers: model(status.replacingOccurrences(of: "6: ", with: "0x0: ")),
                line: 10, fragment: "bit 0 is already named at line 9"),
        BadCase(description: "two bits, one name", registers: model(status.replacingOccurrences(of: "compressor_running", with: "hc1_pump")),
                line: 9, fragment: "bits 0 and 6 are both named \"hc1_pump\""),
        BadCase(description: "invalid name", registers: model(status.replacingOccurrences(of: "compressor_running", with: "compressor running")),
                line: 10, fragment: "bit name \"compressor running\" must start with a letter"),
        BadCase(description: "name shadows a daemon metric", registers: model(status.replacingOccurrences(of: "compressor_running", with: "up")),
                line: 10, fragment: "collides with the daemon's own metric heatpump_up"),
        BadCase(description: "bit name clashes with a register", registers: model(status, "      - {name: compressor_running, address: 1}\n"),
                line: 11, fragment: "bit 6 of register \"operating_status\" and register \"compressor_running\" would both export heatpump_compressor_running"),
        BadCase(description: "bit names clash across registers",
                registers: model(status, "      - {name: other, address: 2, unit: bitmap, bitmap_fields: {3: hc1_pump}}\n"),
                line: 11, fragment: "would both export heatpump_hc1_pump"),
        BadCase(description: "bit name clashes with an enum's companion",
                registers: model(status.replacingOccurrences(of: "compressor_running", with: "mode_state"), "      - {name: mode, address: 3, unit: enum, enum_values: {0: off}}\n"),
                line: 11, fragment: "would both export heatpump_mode_state"),
        BadCase(description: "bitmap_fields without unit: bitmap", registers: model(status.replacingOccurrences(of: "unit: bitmap", with: "unit: enum")),
                line: 4, fragment: "bitmap_fields need unit: bitmap"),
        BadCase(description: "bitmap_fields is a list", registers: model("      - {name: s, address: 1, unit: bitmap, bitmap_fields: [a, b]}\n"),
                line: 4, fragment: "expected a mapping"),
    ]

    @Test("invalid bitmap_fields are rejected with file, line and reason", arguments: badCases)
    func rejects(_ bad: BadCase) throws {
        expectRegistersRejected(loader, registers: bad.registers, line: bad.line, fragment: bad.fragment, bad.description)
    }

    @Test("bits of every width are accepted up to the type's last bit")
    func widths() throws {
        let text = Self.model("""
              - {name: a, address: 1, data_type: uint8, unit: bitmap, bitmap_fields: {7: a7}}
              - {name: b, address: 2, data_type: int32, unit: bitmap, bitmap_fields: {31: b31}}
              - {name: c, address: 4, data_type: uint64, unit: bitmap, bitmap_fields: {63: c63, 0x0: c0}}
              - {name: d, address: 8, data_type: int16, unit: Bitmap, bitmap_fields: {15: d15}}

        """)
        let config = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": text])
        let registers = try #require(config.models["m"]).registers
        #expect(registers.map { $0.bitmapFields.map(\.bit) } == [[7], [31], [0, 63], [15]])
    }

    static func register(_ type: DataType = .uint16, order: ByteOrder = .abcd, fields: [BitmapField], unavailable: [Int64] = []) -> RegisterDefinition {
        RegisterDefinition(name: "operating_status", address: 2500, registerType: .input, dataType: type, byteOrder: order, unit: "bitmap",
                           unavailable: unavailable, bitmapFields: fields)
    }

    @Test("decoding appends one boolean sample per named bit after the register's number and _bit list")
    func decode() {
        let r = Self.register(fields: [BitmapField(bit: 9, name: "defrost_mode"), BitmapField(bit: 0, name: "hc1_pump"),
                                       BitmapField(bit: 6, name: "compressor_running")])
        var samples: [Sample] = []
        RegisterDecoder.decode(r, index: 4, words: [0b0000_0000_0100_0001], into: &samples)
        #expect(samples.map(\.name) == ["operating_status", "hc1_pump", "compressor_running", "defrost_mode"])
        #expect(samples.map(\.value) == [.int(65), .bool(true), .bool(true), .bool(false)])
        #expect(samples[0].bits == [0, 6], "the _bit series stay")
        #expect(samples.allSatisfy { $0.register == 4 })
        // Byte order applies before the bits are read: BADC swaps the bytes of the word.
        var swapped: [Sample] = []
        RegisterDecoder.decode(Self.register(order: .badc, fields: r.bitmapFields), index: 0, words: [0x0002], into: &swapped)
        #expect(swapped.first { $0.name == "defrost_mode" }?.value == .bool(true))
    }

    @Test("a bit named like its register makes the register's value that boolean, as HPManager writes it")
    func ownName() {
        let r = RegisterDefinition(name: "evu_release", address: 2501, registerType: .input, dataType: .uint16, unit: "bitmap",
                                   bitmapFields: [BitmapField(bit: 0, name: "evu_release")])
        var samples: [Sample] = []
        RegisterDecoder.decode(r, index: 0, words: [0x0003], into: &samples)
        #expect(samples.map(\.name) == ["evu_release"])
        #expect(samples.first?.value == .bool(true) && samples.first?.bits == [0, 1])
    }

    @Test("a not-available raw value produces neither the number nor its bits")
    func unavailable() {
        var samples: [Sample] = []
        RegisterDecoder.decode(Self.register(fields: [BitmapField(bit: 0, name: "x")], unavailable: [32768]), index: 0, words: [0x8000], into: &samples)
        #expect(samples.isEmpty)
    }

    @Test("named bits become boolean InfluxDB fields")
    func sinks() throws {
        var samples: [Sample] = []
        RegisterDecoder.decode(Self.register(fields: [BitmapField(bit: 6, name: "compressor_running"), BitmapField(bit: 9, name: "defrost_mode")]),
                               index: 0, words: [0x0040], into: &samples)
        let device = DeviceLabels(id: "hp1", name: "Heat Pump 1", location: "Garage", model: "stiebel_eltron_wpm", manufacturer: "")
        let report = PollReport(device: device, timestamp: 1, samples: samples, status: DeviceStatus(up: true))
        // Named bits are booleans whatever the numbers' field types are.
        let line = try #require(LineProtocol.line(report, precision: .s))
        #expect(line.contains(" operating_status=64.0,compressor_running=true,defrost_mode=false "), "\(line)")
        let native = try #require(LineProtocol.line(report, precision: .s, fieldTypes: .native))
        #expect(native.contains(" operating_status=64i,compressor_running=true,defrost_mode=false "), "\(native)")
    }
}
