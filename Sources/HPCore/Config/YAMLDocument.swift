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
        do {
            // Before composing: Yams hashes mapping keys with aliases expanded ("billion laughs").
            try YAMLExpansionGuard.check(bytes)
        } catch {
            throw ConfigError(.syntax, file: file, line: error.line, field: "", message: error.message)
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
}
