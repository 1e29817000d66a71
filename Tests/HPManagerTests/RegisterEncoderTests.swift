import Drivers
import HPCore
import Testing

@Suite("Register encoding for writes", .harnessThreads)
struct RegisterEncoderTests {
    struct Case: Sendable, CustomStringConvertible {
        var type: DataType
        var order: ByteOrder
        var text: String
        var description: String { "\(type.rawValue) \(order.rawValue) \(text)" }
    }

    static let cases: [Case] = {
        var all: [Case] = []
        let values: [(DataType, String)] = [(.int16, "-1234"), (.uint16, "54321"), (.int32, "-123456789"), (.uint32, "3456789012"),
                                            (.int64, "-1234567890123"), (.float32, "21.5"), (.float64, "-0.125"), (.uint8, "200"), (.int8, "-42")]
        for (type, text) in values { for order in ByteOrder.allCases { all.append(Case(type: type, order: order, text: text)) } }
        return all
    }()

    @Test("encode → decode round trip for every type and byte order", arguments: cases)
    func roundTrip(_ c: Case) throws {
        let r = RegisterDefinition(name: "x", address: 0, dataType: c.type, byteOrder: c.order, access: .readWrite)
        let (payload, value) = try RegisterEncoder.encode(r, text: c.text)
        guard case .words(let words) = payload else { Issue.record("expected words"); return }
        #expect(words.count == c.type.registerCount)
        let decoded = try #require(RegisterDecoder.decode(r, index: 0, words: words[...]))
        #expect(decoded.value.doubleValue == value)
        #expect(value == Double(c.text))
    }

    @Test("scale and offset: raw = (value − offset) / scale, and values between steps are refused")
    func scaled() throws {
        let r = RegisterDefinition(name: "t", address: 0, dataType: .int16, scale: 0.1, offset: 10, access: .readWrite)
        #expect(try RegisterEncoder.encode(r, text: "22.5").payload == .words([125]))
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(r, text: "22.55") }
    }

    @Test("write_register_type: input registers write as holding words, discrete inputs as a coil; without it both are refused")
    func writeTable() throws {
        var input = RegisterDefinition(name: "p", address: 1790, registerType: .input, dataType: .float32, byteOrder: .cdab, access: .readWrite)
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(input, text: "1.5") }
        input.writeRegisterType = .holding
        #expect(try RegisterEncoder.encode(input, text: "-1").payload == .words([0x0000, 0xBF80]), "the read byte order applies to the write")
        var discrete = RegisterDefinition(name: "d", address: 3, registerType: .discrete, dataType: .bool, access: .readWrite)
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(discrete, text: "on") }
        discrete.writeRegisterType = .coil
        #expect(try RegisterEncoder.encode(discrete, text: "on").payload == .bit(true))
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(discrete, text: "2") }
    }

    @Test("a separate write byte order (NIBE: read CDAB, write ABCD)")
    func writeOrder() throws {
        var r = RegisterDefinition(name: "dm", address: 0, dataType: .int32, byteOrder: .cdab, access: .readWrite)
        r.writeByteOrder = .abcd
        #expect(try RegisterEncoder.encode(r, text: "305419896").payload == .words([0x1234, 0x5678]))
        r.writeByteOrder = nil
        #expect(try RegisterEncoder.encode(r, text: "305419896").payload == .words([0x5678, 0x1234]))
    }

    @Test("limits, access, type range, enum labels and coils")
    func validation() throws {
        let limited = RegisterDefinition(name: "sp", address: 0, dataType: .int16, access: .readWrite, min: 5, max: 30)
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(limited, text: "31") }
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(limited, text: "warm") }
        let readOnly = RegisterDefinition(name: "ro", address: 0)
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(readOnly, text: "1") }
        let input = RegisterDefinition(name: "in", address: 0, registerType: .input, access: .readWrite)
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(input, text: "1") }
        let small = RegisterDefinition(name: "u", address: 0, dataType: .uint16, access: .readWrite)
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(small, text: "-1") }
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(small, text: "65536") }
        let mode = RegisterDefinition(name: "mode", address: 0, dataType: .uint16, unit: "enum", enumValues: [0: "off", 3: "eco"], access: .readWrite)
        #expect(try RegisterEncoder.encode(mode, text: "ECO").payload == .words([3]))
        let coil = RegisterDefinition(name: "c", address: 0, registerType: .coil, dataType: .bool, access: .readWrite)
        #expect(try RegisterEncoder.encode(coil, text: "on").payload == .bit(true))
        #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(coil, text: "2") }
    }
}
