import ControlProtocol
import Foundation

/// Human-readable rendering of results: aligned tables and short sentences.
enum Output {
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in c + String(repeating: " ", count: max(0, widths[i] - c.count)) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        return ([render(header)] + rows.map(render)).joined(separator: "\n")
    }

    static func text(_ value: JSONValue?) -> String {
        switch value {
        case .none, .null?: return "-"
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "yes" : "no"
        case .number(let n)?: return n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(format: "%.3f", n).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
        case .array(let a)?: return a.map { text($0) }.joined(separator: ",")
        case .object?: return "{…}"
        }
    }

    static func time(_ value: JSONValue?) -> String {
        guard let seconds = value?.number else { return "-" }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    static func ago(_ value: JSONValue?) -> String {
        guard let seconds = value?.number else { return "never" }
        let delta = Date().timeIntervalSince1970 - seconds
        return delta < 120 ? "\(Int(delta)) s ago" : delta < 7200 ? "\(Int(delta / 60)) min ago" : "\(Int(delta / 3600)) h ago"
    }

    static func json(_ value: JSONValue?) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let value, let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
