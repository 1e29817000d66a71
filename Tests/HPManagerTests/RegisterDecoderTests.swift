import Drivers
import HPCore
import Testing

@Suite("Register decoding", .harnessThreads)
struct RegisterDecoderTests {
    struct OrderCase: Sendable, CustomStringConvertible {
        var order: ByteOrder
        var words: [UInt16]
        var description: String { order.rawValue }
    }

    /// 0x11223344 as each byte order puts it on the wire.
    @Test("32-bit byte orders", arguments: [
        OrderCase(order: .abcd, words: [0x1122, 0x3344]),
        OrderCase(order: .cdab, words: [0x3344, 0x1122]),
        OrderCase(order: .badc, words: [0x2211, 0x4433]),
        OrderCase(order: .dcba, words: [0x4433, 0x2211]),
    ])
    func byteOrders32(_ c: OrderCase) {
        #expect(RegisterDecoder.combine(c.words[...], order: c.order) == 0x1122_3344)
    }

    @Test("64-bit CDAB reverses all four words (GHEFCDAB)")
    func wordSwap64() {
        let words: [UInt16] = [0x7788, 0x5566, 0x3344, 0x1122]
        #expect(RegisterDecoder.combine(words[...], order: .cdab) == 0x1122_3344_5566_7788)
        #expect(RegisterDecoder.combine([0x8877, 0x6655, 0x4433, 0x2211][...], order: .dcba) == 0x1122_3344_5566_7788)
    }

    @Test("32768 and -32768 both mark the word 0x8000 unavailable")
    func sentinels() {
        for spelled in [Int64(32768), -32768] {
            let r = RegisterDefinition(name: "t", address: 0, dataType: .int16, unavailable: [spelled])
            #expect(RegisterDecoder.decode(r, index: 0, words: [0x8000][...]) == nil)
            #expect(RegisterDecoder.decode(r, index: 0, words: [0x7FFF][...])?.value == .int(32767))
        }
        let u = RegisterDefinition(name: "u", address: 0, dataType: .uint16, unavailable: [-32768])
        #expect(RegisterDecoder.decode(u, index: 0, words: [0x8000][...]) == nil)
    }

    @Test("scale and offset: value = raw × scale + offset")
    func scaleOffset() {
        let r = RegisterDefinition(name: "t", address: 0, dataType: .int16, scale: 0.1, offset: -2)
        #expect(RegisterDecoder.decode(r, index: 0, words: [UInt16(bitPattern: -53)][...])?.value == .double(-53 * 0.1 - 2))
    }

    @Test("uint8 is the low byte, int8 sign-extends it")
    func bytes() {
        let u = RegisterDefinition(name: "u", address: 0, dataType: .uint8, unavailable: [255])
        #expect(RegisterDecoder.decode(u, index: 0, words: [0x1234][...])?.value == .int(0x34))
        #expect(RegisterDecoder.decode(u, index: 0, words: [0xFFFF][...]) == nil)
        let s = RegisterDefinition(name: "s", address: 0, dataType: .int8)
        #expect(RegisterDecoder.decode(s, index: 0, words: [0x00D6][...])?.value == .int(-42))
    }

    @Test("enum labels and bitmap bits")
    func enumAndBitmap() {
        let e = RegisterDefinition(name: "mode", address: 0, dataType: .uint16, unit: "enum", enumValues: [1: "heating"])
        #expect(RegisterDecoder.decode(e, index: 0, words: [1][...])?.label == "heating")
        #expect(RegisterDecoder.decode(e, index: 0, words: [7][...])?.label == "unknown_7")
        let b = RegisterDefinition(name: "status", address: 0, dataType: .uint16, unit: "bitmap")
        #expect(RegisterDecoder.decode(b, index: 0, words: [0b1000_0000_0100_0101][...])?.bits == [0, 2, 6, 15])
    }

    @Test("float NaN produces no sample; IDM -1.0 sentinel (0xBF800000) is honoured in CDAB")
    func floats() {
        let nan = RegisterDefinition(name: "f", address: 0, dataType: .float32)
        #expect(RegisterDecoder.decode(nan, index: 0, words: [0x7FC0, 0x0000][...]) == nil)
        let idm = RegisterDefinition(name: "f", address: 0, dataType: .float32, byteOrder: .cdab, unavailable: [0xBF80_0000])
        #expect(RegisterDecoder.decode(idm, index: 0, words: [0x0000, 0xBF80][...]) == nil)
        #expect(RegisterDecoder.decode(idm, index: 0, words: [0x0000, 0x41AC][...])?.value == .double(21.5))
    }
}
