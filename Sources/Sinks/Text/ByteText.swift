/// Number and string formatting straight into a byte buffer, for the per-poll sink paths (the
/// metrics file, the readings rows): no intermediate `String` per value. Hand-written because
/// these run for every register of every poll; the profile showed per-value strings and
/// interpolation as the largest cost of both sinks.
enum ByteText {
    /// Decimal digits of `value`.
    static func append(_ value: UInt64, to out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(truncatingIfNeeded: value) &+ 48)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            // UInt64.max has 20 digits: the buffer cannot overflow.
            var count = 0
            var rest = value
            while rest > 0 {
                digits[19 - count] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
                rest /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }

    static func append(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            append(value.magnitude, to: &out)
        } else {
            append(UInt64(value), to: &out)
        }
    }

    /// Go-parsable float text as Prometheus and JSON readers accept it: integral values below 1e15
    /// without a fraction, others in Swift's shortest round-trip form. Non-finite values are
    /// `nonFinite`'s business (Prometheus spells them `NaN`/`+Inf`, JSON has no spelling).
    static func append(_ value: Double, to out: inout [UInt8]) {
        if value == value.rounded(), abs(value) < 1e15 {
            // |value| < 1e15 fits Int64 exactly: the conversion cannot trap.
            append(Int64(value), to: &out)
        } else if !appendFewDecimals(value, to: &out) {
            out.append(contentsOf: value.description.utf8)
        }
    }

    /// Most register values are scaled integers (`21.5`, `0.25`, `-3.75`): their shortest
    /// round-trip text has few decimals and is written here digit by digit, without the general
    /// shortest-representation algorithm and the `String` it returns (~1/3 of the sinks' number
    /// cost in perf). Returns false, writing nothing, when the value needs more than
    /// `maxDecimals` decimals or lies outside `[1e-3, 1e9)`.
    ///
    /// Why the text equals `description`'s: `n / 10^d` with `n < 2^53` is a correctly rounded
    /// division of exact doubles, so `scaled / scale == magnitude` holds exactly when the decimal
    /// text `n·10^-d` parses back to the value, i.e. round-trips. Trying `d = 1, 2, …` finds the
    /// fewest decimals, hence the fewest significant digits (no trailing zero: `d - 1` would have
    /// matched). Below 1e9 one ulp is under 2^-23 < 10^-maxDecimals, so at most one `n` per `d`
    /// round-trips: the shortest text is unique, and Swift prints such values without an exponent.
    static func appendFewDecimals(_ value: Double, to out: inout [UInt8]) -> Bool {
        let magnitude = value.magnitude
        guard magnitude >= 1e-3, magnitude < 1e9 else { return false }
        var scale: Double = 1
        var divisor: UInt64 = 1
        for decimals in 1...maxDecimals {
            scale *= 10  // 10^decimals, exact
            divisor &*= 10
            let scaled = (magnitude * scale).rounded()
            guard scaled / scale == magnitude else { continue }
            // scaled < 1e9 · 10^maxDecimals < 2^53: exact in UInt64, the conversion cannot trap.
            let n = UInt64(scaled)
            if value < 0 { out.append(UInt8(ascii: "-")) }
            append(n / divisor, to: &out)
            out.append(UInt8(ascii: "."))
            var fraction = n % divisor
            var digit = divisor / 10
            for _ in 0..<decimals {
                out.append(UInt8(truncatingIfNeeded: fraction / digit) &+ 48)
                fraction %= digit
                digit /= 10
            }
            return true
        }
        return false
    }

    /// Decimals the fast path tries before falling back to Swift's shortest representation.
    static let maxDecimals = 5

    /// A JSON string literal (quotes included), escaping what RFC 8259 requires.
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let utf8 = text.utf8
        // Register names and most labels need no escape: one scan of the contiguous bytes, one copy.
        let copied = utf8.withContiguousStorageIfAvailable { bytes -> Bool in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            out.append(contentsOf: bytes)
            return true
        } ?? false
        if copied {
            // written
        } else if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: utf8)
        } else {
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
                case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
                case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hex[Int(byte >> 4)])
                    out.append(hex[Int(byte & 0xF)])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
