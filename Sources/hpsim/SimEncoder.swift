/// Encodes a value into register words in a given byte order.
///
/// Written independently from the poller's decoder (byte arrays, not shifts) so a shared bug cannot
/// hide: the value's big-endian bytes are laid out, then words/bytes are permuted per the order.
enum SimEncoder {
    static func bigEndianBytes(_ value: SimScalar, type: SimValueType, length: Int = 0) -> [UInt8] {
        func bytes<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
            withUnsafeBytes(of: v.bigEndian) { Array($0) }
        }
        switch type {
        case .int8: return [0, UInt8(bitPattern: Int8(clamping: value.integer))]
        case .uint8: return [0, UInt8(clamping: value.integer)]
        case .int16: return bytes(Int16(truncatingIfNeeded: value.integer))
        case .uint16: return bytes(UInt16(truncatingIfNeeded: value.integer))
        case .int32: return bytes(Int32(truncatingIfNeeded: value.integer))
        case .uint32: return bytes(UInt32(truncatingIfNeeded: value.integer))
        case .int64: return bytes(Int64(truncatingIfNeeded: value.integer))
        case .uint64: return bytes(value.unsigned)
        case .float16: return bytes(Float16(value.real).bitPattern)
        case .float32: return bytes(Float(value.real).bitPattern)
        case .string:
            // The text's bytes in reading order, cut or NUL-padded to the point's registers.
            let size = 2 * length
            return Array(value.text.prefix(size)) + Array(repeating: 0, count: max(0, size - value.text.count))
        case .float64: return bytes(value.real.bitPattern)
        case .bool: return [0, value.integer != 0 ? 1 : 0]
        }
    }

    /// Words as they go on the wire, first word at the lowest address.
    /// Text keeps its registers in address order: only the byte swap of BADC/DCBA applies to it.
    static func words(_ value: SimScalar, type: SimValueType, order: SimOrder, length: Int = 0) -> [UInt16] {
        var bytes = bigEndianBytes(value, type: type, length: length)
        // Pairs of bytes = words, most significant first.
        var pairs: [[UInt8]] = stride(from: 0, to: bytes.count, by: 2).map { [bytes[$0], bytes[$0 + 1]] }
        let effective: SimOrder = type != .string ? order : (order == .BADC || order == .DCBA ? .BADC : .ABCD)
        switch effective {
        case .ABCD: break
        case .CDAB: pairs.reverse()
        case .BADC: pairs = pairs.map { [$0[1], $0[0]] }
        case .DCBA: pairs = pairs.reversed().map { [$0[1], $0[0]] }
        }
        bytes = pairs.flatMap { $0 }
        return pairs.map { UInt16($0[0]) << 8 | UInt16($0[1]) }
    }
}

/// A value as the simulator holds it: exact integers (signed or unsigned) or a real number.
struct SimScalar {
    var integer: Int64 = 0
    var unsigned: UInt64 = 0
    var real: Double = 0
    /// Raw bytes of a text value, as stored on the device (before padding).
    var text: [UInt8] = []

    static func text(_ s: String) -> SimScalar { SimScalar(text: Array(s.utf8)) }

    static func int(_ v: Int64) -> SimScalar { SimScalar(integer: v, unsigned: UInt64(bitPattern: v), real: Double(v)) }
    static func uint(_ v: UInt64) -> SimScalar { SimScalar(integer: Int64(bitPattern: v), unsigned: v, real: Double(v)) }
    static func real(_ v: Double) -> SimScalar { SimScalar(integer: Int64(v.rounded()), unsigned: UInt64(max(0, v.rounded())), real: v) }
}
