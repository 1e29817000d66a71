import HPCore

/// Turns a physical value into raw register words (or a bit) for a write, validating it against the
/// register definition first. The inverse of `RegisterDecoder`.
public enum RegisterEncoder {
    public struct Rejected: Error, Sendable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    public enum Payload: Sendable, Equatable {
        case words([UInt16])
        case bit(Bool)
    }

    /// - Parameter text: the value as the operator typed it: a number, true/false, or an enum label.
    /// - Returns: the words and the value they stand for; for float16 that is the nearest half-precision
    ///   value (21.3 → 21.296875), so the write's read-back can be compared exactly.
    public static func encode(_ register: RegisterDefinition, text: String) throws -> (payload: Payload, value: Double) {
        guard register.access.isWritable else { throw Rejected("register \(register.name) is read-only") }
        // The model loader refuses writable text and bit registers; refused here too for hand-built definitions.
        guard register.dataType != .string else { throw Rejected("register \(register.name) holds text; string registers cannot be written") }
        guard register.bit == nil else { throw Rejected("register \(register.name) is one bit of a register; it cannot be written alone") }
        guard register.writeTableIsWritable else {
            throw Rejected("register \(register.name) is a \(register.registerType.rawValue) register; only holding registers and coils can be written (see write_register_type)")
        }
        let value: Double
        if let number = Double(text), number.isFinite {
            value = number
        } else if ["true", "on"].contains(text.lowercased()) {
            value = 1
        } else if ["false", "off"].contains(text.lowercased()) {
            value = 0
        } else if let raw = register.enumValues.first(where: { $0.value.lowercased() == text.lowercased() })?.key {
            value = Double(raw) * register.scale + register.offset
        } else {
            let labels = register.enumValues.isEmpty ? "" : "; labels: \(register.enumValues.values.sorted().joined(separator: ", "))"
            throw Rejected("\"\(text)\" is not a number\(labels)")
        }
        if let min = register.min, value < min { throw Rejected("\(value) is below the minimum \(min) of \(register.name)") }
        if let max = register.max, value > max { throw Rejected("\(value) is above the maximum \(max) of \(register.name)") }
        if register.writeTable == .coil {
            guard value == 0 || value == 1 else { throw Rejected("a coil takes 0/1 or true/false, found \(value)") }
            return (.bit(value == 1), value)
        }
        let raw = (value - register.offset) / register.scale
        guard raw.isFinite else { throw Rejected("\(value) does not fit a \(register.dataType.rawValue) register") }
        let bits: UInt64
        var written = value
        switch register.dataType {
        case .float32:
            let single = Float(raw)
            guard single.isFinite else { throw Rejected("\(value) does not fit a float32 register") }
            bits = UInt64(single.bitPattern)
        case .float16:
            let half = try halfBits(raw, value: value, name: register.name)
            bits = UInt64(half)
            written = RegisterDecoder.halfToDouble(half) * register.scale + register.offset
        case .float64: bits = raw.bitPattern
        default:
            if register.scale == 1 && register.offset == 0, let exact = try exactIntegerBits(text, register.dataType) {
                bits = exact
                break
            }
            let rounded = raw.rounded()
            guard abs(rounded - raw) < 1e-6 else { throw Rejected("\(value) is not a multiple of the scale \(register.scale)") }
            guard let fitted = integerBits(rounded, register.dataType) else {
                throw Rejected("\(value) does not fit a \(register.dataType.rawValue) register")
            }
            bits = fitted
        }
        return (.words(words(bits, count: register.count, order: register.writeByteOrder ?? register.byteOrder)), written)
    }

    /// Integer text for an unscaled register, taken digit for digit: a Double has only 53 bits, so
    /// `18446744073709551615` would otherwise round to 2^64. Nil when the text is no integer literal.
    static func exactIntegerBits(_ text: String, _ type: DataType) throws -> UInt64? {
        let limits = integerLimits(type)
        let tooBig = Rejected("\(text) does not fit a \(type.rawValue) register")
        if let signed = Int64(text) {
            if signed < 0 {
                guard signed >= limits.min else { throw tooBig }
                return UInt64(bitPattern: signed)
            }
            guard UInt64(signed) <= limits.max else { throw tooBig }
            return UInt64(signed)
        }
        if let unsigned = UInt64(text) {
            guard unsigned <= limits.max else { throw tooBig }
            return unsigned
        }
        // More digits than 64 bits hold: too big for every integer register.
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        if !digits.isEmpty && digits.allSatisfy({ $0.isASCII && $0.isNumber }) { throw tooBig }
        return nil
    }

    /// The raw bits of a whole number, or nil when it does not fit the type. Exact conversions only:
    /// `Double(UInt64.max)` is 2^64, one past the largest `UInt64`, and `UInt64(2^64)` would trap.
    static func integerBits(_ value: Double, _ type: DataType) -> UInt64? {
        let limits = integerLimits(type)
        if value < 0 {
            guard limits.signed, let signed = Int64(exactly: value), signed >= limits.min else { return nil }
            return UInt64(bitPattern: signed)
        }
        guard let unsigned = UInt64(exactly: value), unsigned <= limits.max else { return nil }
        return unsigned
    }

    /// Smallest and largest raw value of an integer type; `max` as UInt64 so uint64 fits.
    static func integerLimits(_ type: DataType) -> (signed: Bool, min: Int64, max: UInt64) {
        switch type {
        case .bool: (false, 0, 1)
        case .int8: (true, Int64(Int8.min), UInt64(Int8.max))
        case .uint8: (false, 0, UInt64(UInt8.max))
        case .int16: (true, Int64(Int16.min), UInt64(Int16.max))
        case .uint16: (false, 0, UInt64(UInt16.max))
        case .int32: (true, Int64(Int32.min), UInt64(Int32.max))
        case .uint32: (false, 0, UInt64(UInt32.max))
        case .int64, .float16, .float32, .float64, .string: (true, Int64.min, UInt64(Int64.max))
        case .uint64: (false, 0, UInt64.max)
        }
    }

    /// Words in wire order for a value's bits (most significant first before applying the order).
    static func words(_ bits: UInt64, count: Int, order: ByteOrder) -> [UInt16] {
        var words = (0..<count).map { i in UInt16(truncatingIfNeeded: bits >> (16 * UInt64(count - 1 - i))) }
        if order.bytesSwapped { words = words.map(\.byteSwapped) }
        if order.wordsReversed { words.reverse() }
        return words
    }

    /// Largest finite half-precision value.
    static let halfMax = 65504.0

    /// IEEE 754 binary16 bits of `raw`, rounded to nearest (ties to even). Refused when it would
    /// overflow to infinity or a non-zero value would flush to zero: neither is what the operator asked for.
    static func halfBits(_ raw: Double, value: Double, name: String) throws -> UInt16 {
        let magnitude = abs(raw)
        let sign: UInt16 = raw.sign == .minus ? 0x8000 : 0
        if magnitude == 0 { return sign }
        // Values from 65504 up to the rounding midpoint 65520 round down to 65504; beyond, infinity.
        guard magnitude < 65520 else {
            throw Rejected("\(value) does not fit a float16 register of \(name) (largest magnitude \(halfMax))")
        }
        let exponent = max(Int(magnitude.exponent), -14)  // below 2^-14: subnormal, fixed exponent
        let quantum = Double(sign: .plus, exponent: exponent - 10, significand: 1)
        let steps = (magnitude / quantum).rounded(.toNearestOrEven)  // 1024…2048 normal, 0…1024 subnormal
        guard steps > 0 else {
            throw Rejected("\(value) is too small for a float16 register of \(name) (smallest magnitude 6e-8); it would read back as 0")
        }
        if exponent == -14 && steps < 1024 { return sign | UInt16(steps) }
        // A carry to 2048 moves to the next exponent with a zero fraction.
        let (e, fraction) = steps == 2048 ? (exponent + 1, 0.0) : (exponent, steps - 1024)
        guard e <= 15 else { throw Rejected("\(value) does not fit a float16 register of \(name) (largest magnitude \(halfMax))") }
        return sign | UInt16(e + 15) << 10 | UInt16(fraction)
    }
}
