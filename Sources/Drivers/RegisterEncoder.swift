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
    public static func encode(_ register: RegisterDefinition, text: String) throws -> (payload: Payload, value: Double) {
        guard register.access.isWritable else { throw Rejected("register \(register.name) is read-only") }
        guard register.registerType == .holding || register.registerType == .coil else {
            throw Rejected("register \(register.name) is a \(register.registerType.rawValue) register; only holding registers and coils can be written")
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
        if register.registerType == .coil {
            guard value == 0 || value == 1 else { throw Rejected("a coil takes 0/1 or true/false, found \(value)") }
            return (.bit(value == 1), value)
        }
        let raw = (value - register.offset) / register.scale
        let bits: UInt64
        switch register.dataType {
        case .float32: bits = UInt64(Float(raw).bitPattern)
        case .float64: bits = raw.bitPattern
        default:
            let rounded = raw.rounded()
            guard abs(rounded - raw) < 1e-6 else { throw Rejected("\(value) is not a multiple of the scale \(register.scale)") }
            let limits = rawLimits(register.dataType)
            guard rounded >= limits.lowerBound && rounded <= limits.upperBound else {
                throw Rejected("\(value) does not fit a \(register.dataType.rawValue) register")
            }
            bits = rounded < 0 ? UInt64(bitPattern: Int64(rounded)) : UInt64(rounded)
        }
        return (.words(words(bits, count: register.count, order: register.writeByteOrder ?? register.byteOrder)), value)
    }

    static func rawLimits(_ type: DataType) -> ClosedRange<Double> {
        switch type {
        case .bool: 0...1
        case .int8: -128...127
        case .uint8: 0...255
        case .int16: -32768...32767
        case .uint16: 0...65535
        case .int32: Double(Int32.min)...Double(Int32.max)
        case .uint32: 0...Double(UInt32.max)
        case .int64: Double(Int64.min)...Double(Int64.max)
        case .uint64: 0...Double(UInt64.max)
        case .float32, .float64: -Double.greatestFiniteMagnitude...Double.greatestFiniteMagnitude
        }
    }

    /// Words in wire order for a value's bits (most significant first before applying the order).
    static func words(_ bits: UInt64, count: Int, order: ByteOrder) -> [UInt16] {
        var words = (0..<count).map { i in UInt16(truncatingIfNeeded: bits >> (16 * UInt64(count - 1 - i))) }
        if order.bytesSwapped { words = words.map(\.byteSwapped) }
        if order.wordsReversed { words.reverse() }
        return words
    }
}
