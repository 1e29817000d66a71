import Yams

/// A YAML node plus where it came from, with typed accessors that fail with a located `ConfigError`.
///
/// Scalars are environment-expanded when read, so line numbers stay those of the file.
struct YAMLNode {
    let node: Node
    let file: String
    let path: String
    let expander: EnvironmentExpander

    var line: Int { node.mark?.line ?? 0 }

    func error(_ code: ConfigError.Code, _ message: String) -> ConfigError {
        ConfigError(code, file: file, line: line, field: path, message: message)
    }

    func mapping() throws -> YAMLMapping {
        guard case .mapping(let map) = node else {
            throw error(.invalidType, "expected a mapping, found \(kindName)")
        }
        var entries: [YAMLMapping.Entry] = []
        for (key, value) in map {
            guard case .scalar(let keyScalar) = key else {
                throw error(.invalidType, "mapping keys must be scalars")
            }
            let name = keyScalar.string
            let childPath = path.isEmpty ? name : "\(path).\(name)"
            entries.append(.init(key: name, line: key.mark?.line ?? line,
                                 value: YAMLNode(node: value, file: file, path: childPath, expander: expander)))
        }
        return YAMLMapping(file: file, path: path, line: line, entries: entries)
    }

    /// A sequence; an empty scalar (`key:` with nothing) counts as an empty list.
    func sequence() throws -> [YAMLNode] {
        switch node {
        case .sequence(let seq):
            return seq.enumerated().map { index, child in
                YAMLNode(node: child, file: file, path: "\(path)[\(index)]", expander: expander)
            }
        case .scalar(let scalar) where isNull(scalar):
            return []
        default:
            throw error(.invalidType, "expected a list, found \(kindName)")
        }
    }

    var isNull: Bool {
        if case .scalar(let scalar) = node { return isNull(scalar) }
        return false
    }

    private func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func string() throws -> String {
        guard case .scalar(let scalar) = node else {
            throw error(.invalidType, "expected a text value, found \(kindName)")
        }
        do {
            return try expander.expand(scalar.string)
        } catch {
            throw self.error(.environment, "unterminated ${…} in \"\(scalar.string)\"")
        }
    }

    func int() throws -> Int {
        let text = try string().trimmingCharacters(in: " ")
        if let value = Int(text) { return value }
        if text.hasPrefix("0x") || text.hasPrefix("0X"), let value = Int(text.dropFirst(2), radix: 16) { return value }
        throw error(.invalidType, "expected an integer, found \"\(text)\"")
    }

    func double() throws -> Double {
        let text = try string().trimmingCharacters(in: " ")
        if let value = Double(text), value.isFinite { return value }
        if let value = try? int() { return Double(value) }
        throw error(.invalidType, "expected a number, found \"\(text)\"")
    }

    func bool() throws -> Bool {
        let text = try string().lowercased()
        switch text {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default: throw error(.invalidType, "expected true or false, found \"\(text)\"")
        }
    }

    /// A duration in seconds: a number (`10`, `0.5`) or a number with a unit (`250ms`, `10s`, `5m`, `1h`, `2d`).
    func seconds() throws -> Double {
        let text = try string().trimmingCharacters(in: " ").lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        if let value = Double(text), value.isFinite { return value }
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            // `1e307d` overflows to infinity once scaled: that is no duration either.
            if let value = Double(text.dropLast(suffix.count)), value.isFinite, (value * factor).isFinite { return value * factor }
        }
        throw error(.invalidType, "expected a duration in seconds (e.g. 10, 0.5, 250ms, 5m), found \"\(text)\"")
    }

    /// An integer within `range`; the bound every user number needs before it is converted.
    func int(within range: ClosedRange<Int>) throws -> Int {
        let value = try int()
        guard range.contains(value) else {
            throw error(.invalidValue, "must be between \(range.lowerBound) and \(range.upperBound), found \(value)")
        }
        return value
    }

    /// A finite number within `range`.
    func double(within range: ClosedRange<Double>) throws -> Double {
        try checked(double(), within: range, unit: "")
    }

    /// A duration within `range` seconds, so that `Duration`, timeouts and C `int`s built from it cannot overflow.
    func seconds(within range: ClosedRange<Double>) throws -> Double {
        try checked(seconds(), within: range, unit: " s")
    }

    private func checked(_ value: Double, within range: ClosedRange<Double>, unit: String) throws -> Double {
        guard !range.contains(value) else { return value }
        let found = Self.format(value)
        // Keep the long-standing wording for the common mistakes (zero, negative).
        if range.lowerBound > 0 && value <= 0 { throw error(.invalidValue, "must be greater than 0, found \(found)") }
        if range.lowerBound == 0 && value < 0 { throw error(.invalidValue, "must not be negative, found \(found)") }
        throw error(.invalidValue, "must be between \(Self.format(range.lowerBound))\(unit) and \(Self.format(range.upperBound))\(unit), found \(found)\(unit)")
    }

    /// `86400` rather than `86400.0`; other values as Swift prints them (`0.05`, `1e+300`).
    static func format(_ value: Double) -> String {
        // The magnitude test on the Double: `abs(Int64.min)` would trap.
        if abs(value) < 1e15, let whole = Int64(exactly: value) { return String(whole) }
        return "\(value)"
    }

    private var kindName: String {
        switch node {
        case .scalar(let s): return "\"\(s.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s = s.dropFirst() }
        while s.last == set { s = s.dropLast() }
        return String(s)
    }
}
