import Drivers
import HPCore
import Testing

/// The poll loop decodes plain registers from a flat read table instead of their definitions; both
/// paths must produce identical samples for every type, byte order, scale and offset.
@Suite("Register read table", .harnessThreads)
struct RegisterReadTableTests {
    static let numberTypes = DataType.allCases.filter { $0 != .string }

    @Test("plain registers decode identically from the table and from the definition", arguments: numberTypes)
    func tableMatchesDefinition(_ type: DataType) {
        var rng = SplitMix64(seed: UInt64(DataType.allCases.firstIndex(of: type) ?? 0) + 1)
        for order in ByteOrder.allCases {
            for (scale, offset) in [(1.0, 0.0), (0.1, 0.0), (0.01, -40), (2, 0.5), (1, -273.15)] {
                let r = RegisterDefinition(name: "v", address: 7, dataType: type, byteOrder: order, scale: scale, offset: offset)
                let table = RegisterReadTable([r])
                #expect(table.entries[0].plain && table.entries[0].address == 7 && table.entries[0].count == r.count)
                for _ in 0..<2_000 {
                    // Some words all-ones or zero, to reach NaN/infinity floats and the sign bits.
                    let words = (0..<r.count).map { _ -> UInt16 in
                        switch rng.next() % 8 { case 0: 0xFFFF; case 1: 0; case 2: 0x7C00; default: UInt16(truncatingIfNeeded: rng.next()) }
                    }
                    var viaDefinition: [Sample] = []
                    var viaTable: [Sample] = []
                    RegisterDecoder.decode(r, index: 3, words: words[...], into: &viaDefinition)
                    RegisterDecoder.decode(table.entries[0], index: 3, words: words[...], into: &viaTable)
                    #expect(viaTable == viaDefinition, "\(type) \(order) ×\(scale)+\(offset) words \(words)")
                    if viaTable != viaDefinition { return }
                }
                // Too few words: no sample on either path.
                var short: [Sample] = []
                RegisterDecoder.decode(table.entries[0], index: 3, words: [UInt16](repeating: 1, count: r.count - 1)[...], into: &short)
                #expect(short.isEmpty)
            }
        }
    }

    @Test("registers with labels, bits, sentinels or text are left to the definition's decode")
    func nonPlainRegisters() {
        let registers = [
            RegisterDefinition(name: "mode", address: 0, unit: "enum", enumValues: [1: "on"]),
            RegisterDefinition(name: "flags", address: 1, dataType: .uint16, unit: "bitmap"),
            RegisterDefinition(name: "status", address: 2, dataType: .uint16, bitmapFields: [BitmapField(bit: 0, name: "pump")]),
            RegisterDefinition(name: "t", address: 3, unavailable: [-32768]),
            { var r = RegisterDefinition(name: "on", address: 4, dataType: .uint16); r.bit = 3; return r }(),
            { var r = RegisterDefinition(name: "serial", address: 5, dataType: .string); r.length = 4; return r }(),
            RegisterDefinition(name: "plain", address: 9, dataType: .float32, byteOrder: .cdab),
        ]
        let table = RegisterReadTable(registers)
        #expect(table.entries.map(\.plain) == [false, false, false, false, false, false, true])
        #expect(table.entries[5].count == 4)
    }
}
