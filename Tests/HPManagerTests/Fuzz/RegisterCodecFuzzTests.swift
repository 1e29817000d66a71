@testable import Drivers
import Foundation
import HPCore
import Testing

/// RegisterEncoder/RegisterDecoder as properties: arbitrary words and texts never trap, and values
/// within a register's declared range survive encode → decode for every type, byte order and scale.
@Suite("Fuzz: register encoding and decoding", .harnessThreads)
struct RegisterCodecFuzzTests {
    static let scales: [(Double, Double)] = [(1, 0), (0.1, 0), (0.5, 10), (0.01, -5), (10, 0), (1e-300, 0), (1e300, 1), (-1, 0)]

    static func randomRegister(_ rng: inout SplitMix64, writable: Bool) -> RegisterDefinition {
        let type = Mutator.pick(DataType.allCases, &rng)
        let (scale, offset) = Mutator.pick(scales, &rng)
        var enums: [Int64: String] = [:]
        if Bool.random(using: &rng) { enums = [0: "off", 1: "on", Int64.random(in: .min ... .max, using: &rng): "odd"] }
        var fields: [BitmapField] = []
        for _ in 0..<Int.random(in: 0...3, using: &rng) { fields.append(BitmapField(bit: Int.random(in: -2...70, using: &rng), name: "b\(fields.count)")) }
        var r = RegisterDefinition(
            name: "r", address: 0, registerType: type == .bool && Bool.random(using: &rng) ? .coil : .holding, dataType: type,
            byteOrder: Mutator.pick(ByteOrder.allCases, &rng), unit: fields.isEmpty && Bool.random(using: &rng) ? "" : "bitmap",
            scale: scale, offset: offset, enumValues: enums,
            unavailable: Bool.random(using: &rng) ? [Int64.random(in: .min ... .max, using: &rng), 32768, -1] : [],
            access: writable ? .readWrite : .read,
            min: Bool.random(using: &rng) ? Double.random(in: -1e6...0, using: &rng) : nil,
            max: Bool.random(using: &rng) ? Double.random(in: 0...1e6, using: &rng) : nil, bitmapFields: fields)
        if type == .string { r.length = Int.random(in: -1...6, using: &rng) }
        if Int.random(in: 0..<4, using: &rng) == 0 { r.bit = Int.random(in: -2...70, using: &rng) }
        return r
    }

    @Test("decoding arbitrary words with arbitrary definitions never traps and yields finite values")
    func decodeAnything() async {
        let fuzz = FuzzRun("decode", cases: 3000)
        await fuzz.run { rng, record in
            let r = Self.randomRegister(&rng, writable: false)
            let words = (0..<Int.random(in: 0...5, using: &rng)).map { _ in UInt16.random(in: .min ... .max, using: &rng) }
            record("\(r)\nwords \(words)")
            var samples: [Sample] = []
            RegisterDecoder.decode(r, index: 0, words: words[...], into: &samples)
            RegisterDecoder.decode(r, index: 0, bit: words.first.map { $0 & 1 == 1 } ?? false, into: &samples)
            for s in samples where !s.value.isText && !s.value.doubleValue.isFinite && s.value.doubleValue.isNaN {
                fuzz.fail("NaN sample \(s)", seed: "\(r)\nwords \(words)")
            }
        }
    }

    @Test("encoding arbitrary texts never traps; accepted values have the register's word count")
    func encodeAnything() async {
        let texts = ["21.5", "-0", "1e400", "nan", "inf", "-inf", "0x10", "on", "off", "true", "odd", "١٢", "18446744073709551616",
                     "-9223372036854775809", "9223372036854775807", "1e-320", "+5", " 5", "5 ", "", "\u{0}", "４２"]
        let fuzz = FuzzRun("encode", cases: 3000)
        await fuzz.run { rng, record in
            let r = Self.randomRegister(&rng, writable: true)
            let text = String(decoding: Mutator.mutate(Array(Mutator.pick(texts + Mutator.hugeNumbers, &rng).utf8), &rng), as: UTF8.self)
            record("\(r)\ntext \(text.debugDescription)")
            guard let (payload, value) = try? RegisterEncoder.encode(r, text: text) else { return }
            switch payload {
            case .words(let words): if words.count != r.count { fuzz.fail("\(words.count) words for \(r.dataType)", seed: text) }
            case .bit: if r.registerType != .coil { fuzz.fail("a bit for a register", seed: text) }
            }
            if !value.isFinite { fuzz.fail("non-finite accepted value \(value)", seed: text) }
        }
    }

    /// A raw value inside the type's range, as the encoder's integer limits state it.
    static func randomRaw(_ type: DataType, _ rng: inout SplitMix64) -> SampleValue {
        switch type {
        case .bool: return .bool(Bool.random(using: &rng))
        case .float16:
            var h: Double
            repeat { h = RegisterDecoder.halfToDouble(UInt16.random(in: .min ... .max, using: &rng)) } while !h.isFinite
            return .double(h)
        case .float32:
            var f: Float
            repeat { f = Float(bitPattern: UInt32.random(in: .min ... .max, using: &rng)) } while !f.isFinite
            return .double(Double(f))
        case .float64:
            var d: Double
            repeat { d = Double(bitPattern: UInt64.random(in: .min ... .max, using: &rng)) } while !d.isFinite
            return .double(d)
        case .uint64: return .uint(UInt64.random(in: .min ... .max, using: &rng))
        default:
            let limits = RegisterEncoder.integerLimits(type)
            return .int(Int64.random(in: limits.min ... Int64(limits.max), using: &rng))
        }
    }

    @Test("encode → decode returns the value for every type × byte order, unscaled (exact) and scaled")
    func roundTrip() async throws {
        let fuzz = FuzzRun("roundtrip", cases: 3000)
        try await fuzz.run { rng, record in
            let type = Mutator.pick(DataType.allCases.filter { $0 != .bool && $0 != .string }, &rng)
            let scaled = Bool.random(using: &rng) && type.isInteger && type != .uint64 && type != .int64
            let (scale, offset) = scaled ? Mutator.pick(Array(Self.scales[1...4]), &rng) : (1, 0)
            let r = RegisterDefinition(name: "r", address: 0, dataType: type, byteOrder: Mutator.pick(ByteOrder.allCases, &rng),
                                       scale: scale, offset: offset, access: .readWrite)
            let raw = Self.randomRaw(type, &rng)
            let text: String
            switch raw {
            case .int(let v): text = scaled ? "\(Double(v) * scale + offset)" : String(v)
            case .uint(let v): text = String(v)
            case .double(let v): text = "\(v)"
            case .bool(let v): text = v ? "1" : "0"
            case .string(let v): text = v
            }
            record("\(r)\ntext \(text)")
            let encoded = try RegisterEncoder.encode(r, text: text)
            guard case .words(let words) = encoded.payload else { fuzz.fail("not words", seed: text); return }
            guard let sample = RegisterDecoder.decode(r, index: 0, words: words[...]) else { fuzz.fail("no sample from \(words)", seed: text); return }
            switch (raw, sample.value) {
            case (.int(let want), .int(let got)) where !scaled: if want != got { fuzz.fail("\(got) != \(want)", seed: text) }
            case (.uint(let want), .uint(let got)): if want != got { fuzz.fail("\(got) != \(want)", seed: text) }
            case (.double(let want), .double(let got)) where !scaled: if want != got { fuzz.fail("\(got) != \(want)", seed: text) }
            case (.int, .double(let got)) where scaled:
                let want = encoded.value
                if abs(got - want) > max(1e-9, abs(want) * 1e-12) { fuzz.fail("\(got) != \(want)", seed: text) }
            default: fuzz.fail("type changed: \(raw) → \(sample.value)", seed: text)
            }
        }
    }
}
