/// Mutates valid seed inputs into nearby invalid ones: bit flips, truncation, deletion, duplicated
/// or swapped lines, huge numbers, deep nesting, YAML/JSON structure tokens and odd unicode.
enum Mutator {
    static let hugeNumbers = [
        "99999999999999999999999999", "-9223372036854775808", "9223372036854775807", "18446744073709551616",
        "1e400", "-1e400", "1e-400", "4.9e-324", "0x7FFFFFFFFFFFFFFFF", "0x", "-0", "NaN", ".nan", ".inf", "-.inf",
        "340282366920938463463374607431768211456", "1_000", "0o17", "0b101", "+", "-", "1e", "2147483648", "65536", "-32769",
    ]
    static let tokens = [
        "- ", ": ", "{", "}", "[", "]", ",", "*a", "&a ", "!!binary ", "!!int ", "? ", "---\n", "...\n", "%YAML 1.2\n",
        "${", "${X:-", "}", "\t", "\n  ", "\n", "#", "'", "\"", "\\", "|\n", ">\n", "~", "null", "true", "<<: *a\n", "\"\\u0000\"",
    ]
    static let unicode = [
        "é", "\u{0}", "\u{FEFF}", "𝟘", "١٢٣", "\u{202E}", "\u{FFFD}", "A\u{30A}", "👩‍👩‍👧", "\u{85}", "\u{2028}", "ﬁ", "Ⅻ", "\u{7F}",
    ]

    static func pick<T>(_ items: [T], _ rng: inout SplitMix64) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }

    /// 1-4 mutations of `seed`'s bytes; the result may be invalid UTF-8.
    static func mutate(_ seed: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0...bytes.count, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0 where !bytes.isEmpty:
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1:
                bytes = Array(bytes.prefix(at))
            case 2 where !bytes.isEmpty:
                let end = min(bytes.count, at + Int.random(in: 1...16, using: &rng))
                if at < end { bytes.removeSubrange(at..<end) }
            case 3:
                bytes.insert(contentsOf: Array(pick(hugeNumbers, &rng).utf8), at: at)
            case 4:
                bytes.insert(contentsOf: Array(pick(tokens, &rng).utf8), at: at)
            case 5:
                bytes.insert(contentsOf: Array(pick(unicode, &rng).utf8), at: at)
            case 6:
                bytes = replaceNumber(bytes, &rng)
            case 7:
                bytes = shuffleLines(bytes, &rng)
            case 8:
                // Deep nesting: flow collections or block sequences.
                let depth = Int.random(in: 1...3000, using: &rng)
                let (open, close) = pick([("[", "]"), ("{a: ", "}"), ("- ", "")], &rng)
                let nested = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
                bytes.insert(contentsOf: Array(nested.utf8), at: at)
            default:
                // A repeated chunk (bounded): long lines, many entries.
                let start = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
                let chunk = Array(bytes[start..<min(bytes.count, start + Int.random(in: 1...64, using: &rng))])
                let times = Int.random(in: 2...200, using: &rng)
                bytes.insert(contentsOf: Array(repeating: chunk, count: times).joined(), at: min(at, bytes.count))
            }
        }
        return bytes
    }

    /// Replaces one run of digits with a huge or odd number.
    static func replaceNumber(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        let digits = bytes.indices.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[$0]) }
        guard !digits.isEmpty else { return bytes }
        var start = pick(digits, &rng), end = start
        while start > 0, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[start - 1]) { start -= 1 }
        while end < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[end]) { end += 1 }
        var result = bytes
        result.replaceSubrange(start..<end, with: Array(pick(hugeNumbers, &rng).utf8))
        return result
    }

    /// Duplicates, drops or swaps whole lines (keeps indentation-sensitive structure plausible).
    static func shuffleLines(_ bytes: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        guard lines.count > 1 else { return bytes }
        let i = Int.random(in: 0..<lines.count, using: &rng), j = Int.random(in: 0..<lines.count, using: &rng)
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: lines.insert(lines[i], at: j)
        case 1: lines.remove(at: i)
        default: lines.swapAt(i, j)
        }
        return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
    }
}
