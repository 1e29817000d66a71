import HPCore

/// Turns raw Modbus words or bits into typed, scaled samples. Pure and allocation-light (hot path).
public enum RegisterDecoder {
    /// Combines the value's words (wire order) into one unsigned integer per the byte order.
    ///
    /// For 16-bit values only the byte swap applies; for 32/64-bit values CDAB/DCBA reverse all words.
    @inlinable
    public static func combine(_ words: ArraySlice<UInt16>, order: ByteOrder) -> UInt64 {
        var bits: UInt64 = 0
        if order.wordsReversed {
            for word in words.reversed() {
                bits = bits << 16 | UInt64(order.bytesSwapped ? word.byteSwapped : word)
            }
        } else {
            for word in words {
                bits = bits << 16 | UInt64(order.bytesSwapped ? word.byteSwapped : word)
            }
        }
        return bits
    }

    /// The register's raw integer as a signed 64-bit number (sign-extended for signed types),
    /// or the IEEE bits for floats. Used for sentinels and enum lookups.
    @inlinable
    public static func rawInteger(_ bits: UInt64, type: DataType) -> Int64 {
        switch type {
        case .int8: Int64(Int8(truncatingIfNeeded: bits))
        case .uint8: Int64(bits & 0xFF)
        case .int16: Int64(Int16(truncatingIfNeeded: bits))
        case .uint16: Int64(bits & 0xFFFF)
        case .int32: Int64(Int32(truncatingIfNeeded: bits))
        case .uint32, .float32: Int64(bits & 0xFFFF_FFFF)
        case .float16: Int64(bits & 0xFFFF)
        case .int64, .uint64, .float64, .string: Int64(bitPattern: bits)
        case .bool: bits == 0 ? 0 : 1
        }
    }

    /// Whether `bits` equals one of the register's "not available" raw values.
    /// `32768` and `-32768` both name the word 0x8000: comparison is on the value's bit width.
    @inlinable
    public static func isUnavailable(_ bits: UInt64, register: RegisterDefinition) -> Bool {
        guard !register.unavailable.isEmpty else { return false }
        let mask: UInt64 = switch register.dataType {
        case .int8, .uint8: 0xFF
        case .int16, .uint16, .float16, .bool: 0xFFFF
        case .int32, .uint32, .float32: 0xFFFF_FFFF
        case .int64, .uint64, .float64, .string: .max
        }
        let value = bits & mask
        return register.unavailable.contains { UInt64(bitPattern: $0) & mask == value }
    }

    /// Decodes one register from the words of a read response (`words` starts at the value).
    /// Returns nil for "not available" sentinels and non-finite floats.
    public static func decode(_ register: RegisterDefinition, index: Int, words: ArraySlice<UInt16>) -> Sample? {
        if register.dataType == .string { return stringSample(register, index: index, words: words) }
        guard let bits = rawBits(register, words: words) else { return nil }
        return sample(register, index: index, bits: bits)
    }

    /// Decodes one register and appends its sample plus, for `bitmap_fields`, one boolean sample
    /// per named bit (same register index), so every sink exports named bits like any register.
    public static func decode(_ register: RegisterDefinition, index: Int, words: ArraySlice<UInt16>, into samples: inout [Sample]) {
        if register.dataType == .string {
            if let text = stringSample(register, index: index, words: words) { samples.append(text) }
            return
        }
        guard let bits = rawBits(register, words: words), let value = sample(register, index: index, bits: bits) else { return }
        samples.append(value)
        appendNamedBits(register, index: index, bits: bits, into: &samples)
    }

    /// The byte-order adjusted raw bits, or nil when the words are too few or a "not available" sentinel.
    static func rawBits(_ register: RegisterDefinition, words: ArraySlice<UInt16>) -> UInt64? {
        guard words.count >= register.count else { return nil }
        let slice = words.prefix(register.count)
        var bits = combine(slice, order: register.byteOrder)
        if register.dataType == .int8 || register.dataType == .uint8 {
            bits &= 0xFF  // UCHAR: the low byte of the (byte-order adjusted) register
        }
        if isUnavailable(bits, register: register) { return nil }
        return bits
    }

    /// Decodes a plain number register (`RegisterReadTable.Entry.plain`) from the table's facts alone:
    /// the same value as the definition's decode, without touching the definition.
    public static func decode(_ entry: RegisterReadTable.Entry, index: Int, words: ArraySlice<UInt16>, into samples: inout [Sample]) {
        guard words.count >= entry.count else { return }
        var bits = combine(words.prefix(entry.count), order: entry.byteOrder)
        if entry.dataType == .int8 || entry.dataType == .uint8 {
            bits &= 0xFF  // UCHAR: the low byte of the (byte-order adjusted) register
        }
        guard let value = value(entry.dataType, bits: bits, scale: entry.scale, offset: entry.offset) else { return }
        samples.append(Sample(register: index, name: entry.name, value: value))
    }

    /// Decodes a coil or discrete input.
    public static func decode(_ register: RegisterDefinition, index: Int, bit: Bool) -> Sample? {
        let bits: UInt64 = bit ? 1 : 0
        if isUnavailable(bits, register: register) { return nil }
        return sample(register, index: index, bits: bits)
    }

    /// Decodes a coil or discrete input into `samples` (with its named bit, if any).
    public static func decode(_ register: RegisterDefinition, index: Int, bit: Bool, into samples: inout [Sample]) {
        guard let value = decode(register, index: index, bit: bit) else { return }
        samples.append(value)
        appendNamedBits(register, index: index, bits: bit ? 1 : 0, into: &samples)
    }

    /// One `.bool` sample per `bitmap_fields` entry, after the register's own sample (the last one in
    /// `samples`). A bit named like its register replaces the number, as HPManager writes it
    /// (`evu_release: {0: evu_release}` is a boolean field). Bit indexes are validated against the
    /// type's width when the model loads, and checked here anyway so no definition can trap.
    static func appendNamedBits(_ register: RegisterDefinition, index: Int, bits: UInt64, into samples: inout [Sample]) {
        guard !register.bitmapFields.isEmpty, let own = samples.indices.last else { return }
        for field in register.bitmapFields {
            let set = field.bit >= 0 && field.bit < 64 && (bits >> UInt64(field.bit)) & 1 == 1
            if field.name == register.name {
                samples[own].value = .bool(set)
            } else {
                samples.append(Sample(register: index, name: field.name, value: .bool(set)))
            }
        }
    }

    static func sample(_ register: RegisterDefinition, index: Int, bits: UInt64) -> Sample? {
        let type = register.dataType
        if let bit = register.bit {
            // `bit` is validated to 0-15 when the model loads; checked here so no definition can trap.
            let set = bit >= 0 && bit < 64 && (bits >> UInt64(bit)) & 1 == 1
            return Sample(register: index, name: register.name, value: .bool(set), instance: register.instance)
        }
        // Text is decoded from the words by `stringSample`: no value here.
        guard let value = value(type, bits: bits, scale: register.scale, offset: register.offset) else { return nil }
        var label: String?
        var setBits: [Int] = []
        if register.isBitmap {
            var remaining = bits & (type.registerCount == 4 ? .max : (1 << (16 * UInt64(type.registerCount))) - 1)
            while remaining != 0 {
                let bit = remaining.trailingZeroBitCount
                setBits.append(bit)
                remaining &= remaining - 1
            }
        } else if register.isEnum {
            let raw = rawInteger(bits, type: type)
            label = register.enumValues[raw] ?? "unknown_\(raw)"
        }
        return Sample(register: index, name: register.name, value: value, label: label, bits: setBits, instance: register.instance)
    }

    /// The typed, scaled value of a number register's raw bits; nil for text and non-finite floats.
    /// The one place both decode paths (definition and read table) compute values.
    @inline(__always)
    static func value(_ type: DataType, bits: UInt64, scale: Double, offset: Double) -> SampleValue? {
        let identity = scale == 1 && offset == 0
        switch type {
        case .string:
            return nil
        case .bool:
            return identity ? .bool(bits != 0) : .double((bits != 0 ? 1 : 0) * scale + offset)
        case .float16, .float32, .float64:
            let raw = switch type {
            case .float16: halfToDouble(UInt16(truncatingIfNeeded: bits))
            case .float32: Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits)))
            default: Double(bitPattern: bits)
            }
            guard raw.isFinite else { return nil }
            return .double(identity ? raw : raw * scale + offset)
        case .uint64:
            return identity ? .uint(bits) : .double(Double(bits) * scale + offset)
        default:
            let raw = rawInteger(bits, type: type)
            return identity ? .int(raw) : .double(Double(raw) * scale + offset)
        }
    }

    /// IEEE 754 binary16 bits as a Double, by hand (sign, 5-bit exponent, 10-bit fraction) so it does
    /// not depend on `Float16`, which not every platform has.
    @inlinable
    public static func halfToDouble(_ h: UInt16) -> Double {
        let sign: Double = h & 0x8000 == 0 ? 1 : -1
        let exponent = Int((h >> 10) & 0x1F)
        let fraction = Double(h & 0x3FF)
        switch exponent {
        case 0: return sign * fraction * 0x1p-24  // zero and subnormals: fraction × 2^-14 / 1024
        case 0x1F: return fraction == 0 ? sign * .infinity : .nan
        default: return sign * (1 + fraction / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    /// Text of a `string` register: two bytes per register, high byte first (low byte first for the
    /// byte-swapping orders BADC and DCBA), registers in address order (CDAB is ABCD for text).
    /// Trailing NULs and spaces are trimmed; invalid UTF-8 becomes U+FFFD. Nil when the words are too few.
    static func stringSample(_ register: RegisterDefinition, index: Int, words: ArraySlice<UInt16>) -> Sample? {
        guard register.length > 0, words.count >= register.length else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 * register.length)
        for word in words.prefix(register.length) {
            let ordered = register.byteOrder.bytesSwapped ? word.byteSwapped : word
            bytes.append(UInt8(truncatingIfNeeded: ordered >> 8))
            bytes.append(UInt8(truncatingIfNeeded: ordered))
        }
        while let last = bytes.last, last == 0 || last == 0x20 { bytes.removeLast() }
        return Sample(register: index, name: register.name, value: .string(String(decoding: bytes, as: UTF8.self)), instance: register.instance)
    }
}
