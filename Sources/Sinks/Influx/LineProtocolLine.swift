/// One line of line protocol split into series key, fields and timestamp, so a single field can be
/// taken out (a field InfluxDB refuses because of its type) while the rest of the point is written.
///
/// Understands the escaping `LineProtocol` writes, read the way InfluxDB reads it: outside quotes a
/// comma, equals sign or space right after a backslash is escaped (so `\\,` is a literal backslash and
/// an escaped comma); inside quoted string values `\"` and `\\` are escapes. The timestamp is
/// whatever follows the last unquoted space.
struct LineProtocolLine: Equatable {
    struct Field: Equatable {
        /// The key as InfluxDB names it (unescaped).
        var key: String
        /// The value as written (`21.5`, `3i`, `"eco"`, `true`).
        var raw: String

        /// The InfluxDB type name of the value, as its error messages spell it.
        var type: String {
            if raw.hasPrefix("\"") { return "string" }
            if ["t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"].contains(raw) { return "boolean" }
            if raw.hasSuffix("i") { return "integer" }
            if raw.hasSuffix("u") { return "unsigned" }
            return "float"
        }
    }

    /// Measurement and tags, as written.
    var series: String
    var fields: [Field]
    /// The timestamp, as written (empty when the line has none).
    var timestamp: String

    init?(_ line: String) {
        let chars = Array(line.utf8)
        // Series key: up to the first unescaped space (tags have no quoting).
        var i = 0
        while i < chars.count, !(chars[i] == UInt8(ascii: " ") && !Self.escaped(chars, i)) { i += 1 }
        guard i < chars.count else { return nil }
        series = String(decoding: chars[0..<i], as: UTF8.self)
        i += 1
        var fields: [Field] = []
        var keyStart = i, keyEnd = -1, inQuotes = false
        var fieldSetEnd = chars.count
        while i <= chars.count {
            let c: UInt8 = i < chars.count ? chars[i] : UInt8(ascii: " ")
            if inQuotes {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inQuotes = false }
            } else if i < chars.count, Self.escaped(chars, i) {
                // A separator after a backslash belongs to the key.
            } else if c == UInt8(ascii: "\"") {
                inQuotes = true
            } else if c == UInt8(ascii: "="), keyEnd < 0 {
                keyEnd = i
            } else if c == UInt8(ascii: ",") || c == UInt8(ascii: " ") {
                guard keyEnd > keyStart else { return nil }
                fields.append(Field(key: Self.unescape(chars[keyStart..<keyEnd]),
                                    raw: String(decoding: chars[(keyEnd + 1)..<i], as: UTF8.self)))
                keyStart = i + 1
                keyEnd = -1
                if c == UInt8(ascii: " ") {
                    fieldSetEnd = i
                    break
                }
            }
            i += 1
        }
        guard !inQuotes, !fields.isEmpty else { return nil }
        self.fields = fields
        timestamp = fieldSetEnd < chars.count ? String(decoding: chars[(fieldSetEnd + 1)...], as: UTF8.self) : ""
    }

    /// The measurement name (unescaped).
    var measurement: String {
        let bytes = Array(series.utf8)
        var end = 0
        while end < bytes.count, !(bytes[end] == UInt8(ascii: ",") && !Self.escaped(bytes, end)) { end += 1 }
        return Self.unescape(bytes[0..<end])
    }

    /// The line again; nil when no field is left (a line needs at least one).
    var text: String? {
        guard !fields.isEmpty else { return nil }
        let fieldSet = fields.map { LineProtocol.escapeTag($0.key) + "=" + $0.raw }.joined(separator: ",")
        return timestamp.isEmpty ? "\(series) \(fieldSet)" : "\(series) \(fieldSet) \(timestamp)"
    }

    /// Whether the byte at `i` follows a backslash (InfluxDB's rule: it then separates nothing).
    private static func escaped(_ bytes: [UInt8], _ i: Int) -> Bool {
        i > 0 && bytes[i - 1] == UInt8(ascii: "\\")
    }

    /// `\,` `\=` `\ ` become the character; every other backslash is literal (InfluxDB never unescapes `\\`).
    private static func unescape(_ bytes: ArraySlice<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = bytes.startIndex
        while i < bytes.endIndex {
            let next = bytes.index(after: i)
            if bytes[i] == UInt8(ascii: "\\"), next < bytes.endIndex,
               [UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: " ")].contains(bytes[next]) {
                out.append(bytes[next])
                i = bytes.index(after: next)
            } else {
                out.append(bytes[i])
                i = next
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
