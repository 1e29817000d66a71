import HPCore

/// InfluxDB line protocol for poll reports: measurement `heatpump_metrics`, tags
/// `heat_pump_id,name,location,model` (empty values omitted, as the protocol forbids them),
/// one field per register, the poll's timestamp.
///
/// Enum registers write their label as a string field under the register's name (what HPManager
/// writes) and the number beside it as `<name>_value`. String registers are string fields.
///
/// A field's type depends only on the register, never on the value: with `field_types: float`
/// every number is a float; with `native` integer registers without scale or offset (decoded as
/// `.int`/`.uint`) are integers, unsigned 64-bit ones `u` fields where the server has them (v2).
/// Non-finite numbers are left out (InfluxDB has no NaN or infinity).
public enum LineProtocol {
    public static let measurement = "heatpump_metrics"

    public enum Precision: String, Sendable { case ns, s }

    /// One line for the device's plain registers and one per template instance (its labels as
    /// extra tags, `circuit=A`, and its registers under their shared series names), joined by newlines.
    /// `siteTags` (`site`, `region`, …) follow the device's tags on every line.
    public static func line(_ report: PollReport, precision: Precision, fieldTypes: InfluxFieldTypes = .float,
                            unsignedFields: Bool = false, siteTags: [SeriesLabel] = []) -> String? {
        let all = lines(report, precision: precision, fieldTypes: fieldTypes, unsignedFields: unsignedFields, siteTags: siteTags)
        return all.isEmpty ? nil : all.joined(separator: "\n")
    }

    /// The poll's points, one line each (the plain registers' line first, then one per instance).
    public static func lines(_ report: PollReport, precision: Precision, fieldTypes: InfluxFieldTypes = .float,
                             unsignedFields: Bool = false, siteTags: [SeriesLabel] = []) -> [String] {
        guard !report.samples.isEmpty else { return [] }
        var head = measurement
        let tags = [("heat_pump_id", report.device.id), ("location", report.device.location),
                    ("model", report.device.model), ("name", report.device.name)]
        for (key, value) in tags {
            let escaped = escapeTag(value)
            guard !escaped.isEmpty else { continue }  // the protocol has no empty tag values
            head += ","
            head += key
            head += "="
            head += escaped
        }
        for tag in siteTags {
            let value = escapeTag(tag.value)
            guard !value.isEmpty else { continue }
            head += "," + tag.name + "=" + value
        }
        let timestamp: Int64 = precision == .ns ? Int64((report.timestamp * 1_000_000).rounded()) * 1000 : Int64(report.timestamp.rounded(.down))
        // Group by instance in first-seen order; the plain registers (nil) come first.
        var groups: [([SeriesLabel], [Sample])] = [([], [])]
        var groupOf: [[SeriesLabel]: Int] = [:]
        for sample in report.samples {
            guard let labels = sample.instance?.labels else { groups[0].1.append(sample); continue }
            if let index = groupOf[labels] {
                groups[index].1.append(sample)
            } else {
                groupOf[labels] = groups.count
                groups.append((labels, [sample]))
            }
        }
        var lines: [String] = []
        for (labels, samples) in groups {
            var out = head
            // Extra tags sorted by key after the device's (InfluxDB's preferred order; any order is valid).
            for label in labels.sorted(by: { $0.name < $1.name }) {
                let value = escapeTag(label.value)
                guard !value.isEmpty else { continue }
                out += "," + escapeTag(label.name) + "=" + value
            }
            var first = true
            for sample in samples {
                let name = sample.seriesName
                if let label = sample.label {
                    append(&out, &first, key: name, value: quoted(label))
                }
                if let value = field(sample.value, types: fieldTypes, unsigned: unsignedFields) {
                    append(&out, &first, key: sample.label == nil ? name : name + "_value", value: value)
                }
            }
            guard !first else { continue }
            out += " \(timestamp)"
            lines.append(out)
        }
        return lines
    }

    private static func append(_ out: inout String, _ first: inout Bool, key: String, value: String) {
        let key = escapeTag(key)
        guard !key.isEmpty else { return }  // nothing is left of a key made of backslashes
        out += first ? " " : ","
        first = false
        out += key
        out += "="
        out += value
    }

    /// The field value, or nil for a number InfluxDB cannot store (NaN, infinity).
    public static func field(_ value: SampleValue, types: InfluxFieldTypes, unsigned: Bool) -> String? {
        switch (value, types) {
        case (.bool(let v), _): return v ? "true" : "false"
        case (.string(let v), _): return quoted(v)
        case (.int(let v), .native): return "\(v)i"
        case (.uint(let v), .native) where unsigned: return "\(v)u"
        case (.double(let v), _): return v.isFinite ? float(v) : nil
        case (.int, _), (.uint, _): return float(value.doubleValue)
        }
    }

    /// A float that never reads back as an integer ("21.0", not "21").
    static func float(_ v: Double) -> String {
        let text = "\(v)"
        // Bytes, not Characters: the text is ASCII, and this runs for every field of every poll.
        return text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "n") } ? text : text + ".0"
    }

    /// Tag keys, tag values and field keys: escape commas, equals signs and spaces.
    ///
    /// InfluxDB takes a separator right after a backslash as escaped (it never unescapes `\\`), so a
    /// trailing backslash cannot be written: `name=a\` would swallow the following comma or space and
    /// every line of the device would be refused. Trailing backslashes are dropped; any other
    /// backslash is literal and kept. Empty results are for the caller to omit.
    public static func escapeTag(_ s: String) -> String {
        // A byte scan first (these are ASCII, and a Character equal to one contains its byte): most
        // keys and values have none of them and are returned as they are, without walking Characters.
        guard s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\\") }),
              s.contains(where: { $0 == "," || $0 == "=" || $0 == " " || $0 == "\n" || $0 == "\\" }) else { return s }
        var out = ""
        for ch in s {
            switch ch {
            case ",", "=", " ": out += "\\"; out.append(ch)
            case "\n": out += "\\ "  // newlines cannot be escaped in tags: an escaped space instead
            default: out.append(ch)
            }
        }
        while out.hasSuffix("\\") { out.removeLast() }
        return out
    }

    /// String field values: double quotes and backslashes escaped.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for ch in s {
            if ch == "\"" || ch == "\\" { out += "\\" }
            out.append(ch == "\n" ? " " : ch)
        }
        return out + "\""
    }
}
