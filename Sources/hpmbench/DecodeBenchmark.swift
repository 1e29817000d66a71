import Drivers
import Foundation
import HPCore

/// The decode hot path: raw words of one poll → typed samples, against a straightforward baseline
/// (bytes copied into Data, values into a [String: Double] per poll) measured in the same run.
struct DecodeBenchmark {
    let polls: Int

    static let registers: [RegisterDefinition] = (0..<30).map { RegisterDefinition(name: "t\($0)", address: 2 * $0, registerType: .input, dataType: .int16, scale: 0.1) }
        + (0..<10).map { RegisterDefinition(name: "f\($0)", address: 100 + 2 * $0, dataType: .float32, byteOrder: .cdab) }
        + (0..<10).map { RegisterDefinition(name: "u\($0)", address: 500 + $0, registerType: .input, dataType: .uint16, unavailable: [65535]) }

    func run() -> [(String, Double, Double)] {
        let words = (0..<600).map { UInt16(truncatingIfNeeded: $0 &* 2654435761) }
        let registers = Self.registers

        // Ours: decode straight from the response words into a pre-sized sample array.
        var checksum = 0.0
        let t0 = ContinuousClock.now
        for _ in 0..<polls {
            var samples: [Sample] = []
            samples.reserveCapacity(registers.count)
            for (i, r) in registers.enumerated() {
                if let s = RegisterDecoder.decode(r, index: i, words: words[r.address..<(r.address + r.count)]) { samples.append(s) }
            }
            checksum += samples.last?.value.doubleValue ?? 0
        }
        let ours = (ContinuousClock.now - t0) / .seconds(1)

        // Baseline: bytes into Data, per-type loads, a dictionary per poll.
        let t1 = ContinuousClock.now
        for _ in 0..<polls {
            var values: [String: Double] = [:]
            for r in registers {
                var data = Data()
                for w in words[r.address..<(r.address + r.count)] { data.append(contentsOf: [UInt8(w >> 8), UInt8(w & 0xFF)]) }
                let bytes = [UInt8](data)
                var bits: UInt64 = 0
                for b in bytes { bits = bits << 8 | UInt64(b) }
                let raw: Double = switch r.dataType {
                case .int16: Double(Int16(truncatingIfNeeded: bits))
                case .float32: Double(Float(bitPattern: UInt32(truncatingIfNeeded: (bits << 16 | bits >> 16) & 0xFFFF_FFFF)))
                default: Double(bits)
                }
                values["\(r.name)"] = raw * r.scale + r.offset
            }
            checksum += values["u9"] ?? 0
        }
        let baseline = (ContinuousClock.now - t1) / .seconds(1)
        if checksum.isNaN { print("") }
        let n = Double(polls * registers.count)
        return [("RegisterDecoder (ours)", ours / n * 1e9, ours / Double(polls) * 1e6),
                ("baseline: Data + dictionary", baseline / n * 1e9, baseline / Double(polls) * 1e6)]
    }
}
