import Yams

/// Turns YAML text into a located `YAMLNode`, mapping parser errors to `ConfigError`.
enum YAMLDocument {
    /// Far above any real configuration; bounds memory and parse time of a hostile file.
    static let maxBytes = 4 << 20

    static func compose(_ text: String, file: String, expander: EnvironmentExpander) throws -> YAMLNode? {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxBytes else {
            throw ConfigError(.syntax, file: file, line: 0, field: "", message: "file is \(bytes.count) bytes; at most \(maxBytes) are accepted")
        }
        if let line = aliasKeyLine(bytes) {
            // The composer hashes keys to find duplicates: an alias of a nested alias ("billion laughs")
            // as a key costs exponential time. No configuration needs one.
            throw ConfigError(.syntax, file: file, line: line, field: "", message: "an alias (*name) as a mapping key is not supported")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else { return nil }
            return YAMLNode(node: node, file: file, path: "", expander: expander)
        } catch let error as YamlError {
            throw ConfigError(.syntax, file: file, line: Self.line(of: error), field: "", message: "YAML syntax error: \(Self.describe(error))")
        } catch {
            throw ConfigError(.syntax, file: file, line: 0, field: "", message: "YAML syntax error: \(error)")
        }
    }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        default:
            return 0
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, _, _), .parser(let context, let problem, _, _), .composer(let context, let problem, _, _):
            return [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        case .duplicatedKeysInMapping(let duplicates, _):
            return "duplicate key(s) \(duplicates.joined(separator: ", ")) in one mapping"
        default:
            return "\(error)"
        }
    }

    /// The line of the first alias used as a mapping key (`*a: …`, `? *a`), when the text defines
    /// anchors at all. libyaml anchor names are `[A-Za-z0-9_-]+`; quoted scalars and comments are skipped.
    static func aliasKeyLine(_ bytes: [UInt8]) -> Int? {
        guard bytes.contains(UInt8(ascii: "&")) else { return nil }
        func isName(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        let separators: Set<UInt8> = Set("[{,?:-".utf8)
        func tokenStart(_ i: Int) -> Bool { i == 0 || isSpace(bytes[i - 1]) || separators.contains(bytes[i - 1]) }
        var line = 1
        var i = 0
        var quote: UInt8?
        while i < bytes.count {
            let b = bytes[i]
            defer { i += 1 }
            if b == 0x0A { line += 1 }
            if let q = quote {
                if q == UInt8(ascii: "\""), b == UInt8(ascii: "\\") { i += 1 }
                else if b == q {
                    if q == UInt8(ascii: "'"), i + 1 < bytes.count, bytes[i + 1] == q { i += 1 } else { quote = nil }
                }
                continue
            }
            guard tokenStart(i) else { continue }
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "'") { quote = b; continue }
            if b == UInt8(ascii: "#") {
                while i + 1 < bytes.count, bytes[i + 1] != 0x0A { i += 1 }
                continue
            }
            guard b == UInt8(ascii: "*") else { continue }
            var end = i + 1
            while end < bytes.count, isName(bytes[end]) { end += 1 }
            guard end > i + 1 else { continue }
            var next = end
            while next < bytes.count, bytes[next] == 0x20 || bytes[next] == 0x09 { next += 1 }
            if next < bytes.count, bytes[next] == UInt8(ascii: ":") { return line }
            var back = i - 1
            while back >= 0, bytes[back] == 0x20 || bytes[back] == 0x09 { back -= 1 }
            if back >= 0, bytes[back] == UInt8(ascii: "?"), tokenStart(back) { return line }
        }
        return nil
    }
}
