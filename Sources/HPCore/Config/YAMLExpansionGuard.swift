// libyaml as bundled by Yams (the same parser `Yams.compose` runs): the event stream is read once,
// without building nodes, so nothing is hashed or copied before the document is known to be small.
import CYaml

/// Refuses YAML whose aliases would make composing or reading it expensive ("billion laughs").
///
/// Yams' composer hashes every mapping key to find duplicates, and hashing a key walks it with
/// aliases expanded: a key such as `[*a40]` costs 2^40 steps. Later stages walk values the same
/// way. This walks libyaml's events (anchors, aliases, collection starts and ends) and computes,
/// per node, the number of nodes it expands to, stopping at the first node over the bound. The
/// check is linear in the text, whatever the aliases, and runs before anything is composed.
enum YAMLExpansionGuard {
    /// Nodes that aliases may add to a document. Real configurations add a few thousand (`<<: *base`
    /// per register); composing a million costs a fraction of a second.
    static let maxAliasExpansion = 1_000_000

    struct Refusal: Error, Equatable {
        /// 1-based line of the node that was refused.
        var line: Int
        var message: String
    }

    /// Throws `Refusal` for an alias inside a mapping key, or when aliases expand the document by
    /// more than `limit` nodes. Syntax errors are left to the composer, which reports them better.
    static func check(_ bytes: [UInt8], limit: Int = maxAliasExpansion) throws(Refusal) {
        // Without an anchor there is nothing to alias: skip the second parse.
        guard bytes.contains(UInt8(ascii: "&")) else { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        try bytes.withUnsafeBufferPointer { (buffer) throws(Refusal) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var walk = Walk(limit: limit)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return }
                try walk.consume(event)
            }
        }
    }

    /// The expanded size of the nodes on the path from the root to the current event.
    private struct Walk {
        struct Frame {
            var isMapping: Bool
            var anchor: String?
            var line: Int
            /// Expanded nodes, this collection included.
            var expanded = 1
            /// Nodes written in the text, this collection included.
            var literal = 1
            var containsAlias = false
            var children = 0
        }

        /// A finished node as its parent sees it.
        struct Summary {
            var expanded: Int
            var literal: Int
            var containsAlias: Bool
            var line: Int
        }

        let limit: Int
        var stack: [Frame] = []
        /// Expanded size of each anchored node; a later anchor of the same name shadows it, as in the composer.
        var anchors: [String: Int] = [:]

        init(limit: Int) { self.limit = limit }

        mutating func consume(_ event: yaml_event_t) throws(Refusal) {
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_SCALAR_EVENT:
                let summary = Summary(expanded: 1, literal: 1, containsAlias: false, line: line)
                record(anchor: Self.name(event.data.scalar.anchor), summary)
                try attach(summary)
            case YAML_ALIAS_EVENT:
                // An undefined alias is the composer's error to report; count it as one node.
                let target = Self.name(event.data.alias.anchor).flatMap { anchors[$0] } ?? 1
                try attach(Summary(expanded: target, literal: 1, containsAlias: true, line: line))
            case YAML_SEQUENCE_START_EVENT:
                stack.append(Frame(isMapping: false, anchor: Self.name(event.data.sequence_start.anchor), line: line))
            case YAML_MAPPING_START_EVENT:
                stack.append(Frame(isMapping: true, anchor: Self.name(event.data.mapping_start.anchor), line: line))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { return }
                let summary = Summary(expanded: frame.expanded, literal: frame.literal, containsAlias: frame.containsAlias, line: frame.line)
                record(anchor: frame.anchor, summary)
                try attach(summary)
            default:
                return  // stream and document boundaries
            }
        }

        private mutating func record(anchor: String?, _ summary: Summary) {
            if let anchor { anchors[anchor] = summary.expanded }
        }

        private mutating func attach(_ child: Summary) throws(Refusal) {
            // Every node is checked as it ends, so no count ever exceeds twice the bound plus the text.
            let added = child.expanded.subtractingReportingOverflow(child.literal)
            if added.overflow || added.partialValue > limit {
                throw Refusal(line: child.line, message: "aliases expand this document beyond \(limit) nodes; write the values out instead")
            }
            guard var parent = stack.popLast() else { return }
            defer { stack.append(parent) }
            if parent.isMapping, parent.children % 2 == 0, child.containsAlias {
                throw Refusal(line: child.line, message: "an alias (*name) as a mapping key is not supported")
            }
            parent.children += 1
            parent.expanded = Self.saturatingSum(parent.expanded, child.expanded)
            parent.literal = Self.saturatingSum(parent.literal, child.literal)
            parent.containsAlias = parent.containsAlias || child.containsAlias
        }

        private static func saturatingSum(_ a: Int, _ b: Int) -> Int {
            let sum = a.addingReportingOverflow(b)
            return sum.overflow ? Int.max : sum.partialValue
        }

        private static func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            anchor.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
        }
    }
}
