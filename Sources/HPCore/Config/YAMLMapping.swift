/// A YAML mapping that remembers which keys were read, so unknown keys (typos) become errors.
final class YAMLMapping {
    struct Entry {
        let key: String
        let line: Int
        let value: YAMLNode
    }

    let file: String
    let path: String
    let line: Int
    private let entries: [Entry]
    private var used: Set<String> = []

    init(file: String, path: String, line: Int, entries: [Entry]) {
        self.file = file
        self.path = path
        self.line = line
        self.entries = entries
    }

    var keys: [String] { entries.map(\.key) }

    /// The line a key is written on (the mapping's own line when absent).
    func line(of key: String) -> Int {
        entries.first { $0.key == key }?.line ?? line
    }

    /// The value under `key`, or nil when absent or null.
    func optional(_ key: String) -> YAMLNode? {
        used.insert(key)
        guard let entry = entries.first(where: { $0.key == key }), !entry.value.isNull else { return nil }
        return entry.value
    }

    func required(_ key: String) throws -> YAMLNode {
        guard let value = optional(key) else {
            // A missing key next to a near-miss is almost always a typo: point at the typo.
            if let typo = entries.first(where: { $0.key != key && Self.editDistance($0.key, key) <= 2 }) {
                let field = path.isEmpty ? typo.key : "\(path).\(typo.key)"
                throw ConfigError(.unknownKey, file: file, line: typo.line, field: field,
                                  message: "unknown key '\(typo.key)' (did you mean '\(key)'?)")
            }
            let field = path.isEmpty ? key : "\(path).\(key)"
            throw ConfigError(.missingKey, file: file, line: line, field: field, message: "required key '\(key)' is missing")
        }
        return value
    }

    func string(_ key: String, default fallback: String) throws -> String {
        try optional(key)?.string() ?? fallback
    }

    func int(_ key: String, default fallback: Int) throws -> Int {
        try optional(key)?.int() ?? fallback
    }

    func double(_ key: String, default fallback: Double) throws -> Double {
        try optional(key)?.double() ?? fallback
    }

    func int(_ key: String, default fallback: Int, within range: ClosedRange<Int>) throws -> Int {
        try optional(key)?.int(within: range) ?? fallback
    }

    func double(_ key: String, default fallback: Double, within range: ClosedRange<Double>) throws -> Double {
        try optional(key)?.double(within: range) ?? fallback
    }

    /// Durations always come with a range: each ends up in a `Duration` or a C integer.
    func seconds(_ key: String, default fallback: Double, within range: ClosedRange<Double>) throws -> Double {
        try optional(key)?.seconds(within: range) ?? fallback
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        try optional(key)?.bool() ?? fallback
    }

    /// Fails on the first key that no accessor asked for, naming close matches.
    func rejectUnknownKeys() throws {
        for entry in entries where !used.contains(entry.key) {
            let field = path.isEmpty ? entry.key : "\(path).\(entry.key)"
            var message = "unknown key '\(entry.key)'"
            let candidates = used.filter { Self.editDistance($0, entry.key) <= 2 }.sorted()
            if let best = candidates.first {
                message += " (did you mean '\(best)'?)"
            } else if !used.isEmpty {
                message += "; expected one of: \(used.sorted().joined(separator: ", "))"
            }
            throw ConfigError(.unknownKey, file: file, line: entry.line, field: field, message: message)
        }
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
