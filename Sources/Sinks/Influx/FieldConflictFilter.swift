import Foundation

/// The field type conflicts InfluxDB reported, taken out of every later line before it is sent, so
/// one conflicting field costs that field only, not the point, and not a rejected batch per round.
///
/// Types live per shard in InfluxDB, so a learned conflict is forgotten after `recheck` and tried
/// again (a new shard may accept the type). Pure: time is passed in; confined to the sink's strand.
struct FieldConflictFilter {
    struct Stripped {
        var lines: [String]
        /// Lines that had no field left: nothing of them can be written.
        var emptied: [(line: String, conflict: FieldTypeConflict)]
        /// Removed fields per field key.
        var dropped: [String: Int]
    }

    let recheck: TimeInterval
    /// Conflict → when it was learned.
    private(set) var known: [FieldTypeConflict: Date] = [:]
    /// Longest list kept: register names bound the real number, this bounds a hostile server.
    static let maxKnown = 10_000

    init(recheck: TimeInterval = 3600) {
        self.recheck = recheck
    }

    /// Records a conflict; false when it was already known (so the same answer cannot loop).
    mutating func learn(_ conflict: FieldTypeConflict, now: Date) -> Bool {
        if let at = known[conflict], now.timeIntervalSince(at) < recheck { return false }
        if known.count >= Self.maxKnown, known[conflict] == nil { return false }
        known[conflict] = now
        return true
    }

    /// Removes every known conflicting field from `lines` (expired conflicts are forgotten first).
    mutating func strip(_ lines: [String], now: Date) -> Stripped {
        known = known.filter { now.timeIntervalSince($0.value) < recheck }
        var result = Stripped(lines: [], emptied: [], dropped: [:])
        guard !known.isEmpty else {
            result.lines = lines
            return result
        }
        let keys = Set(known.keys.map { LineProtocol.escapeTag($0.field) + "=" })
        result.lines.reserveCapacity(lines.count)
        for line in lines {
            // Cheap test first: parse only lines that mention a conflicting key.
            guard keys.contains(where: { line.contains($0) }), var parsed = LineProtocolLine(line) else {
                result.lines.append(line)
                continue
            }
            let measurement = parsed.measurement
            var lastConflict: FieldTypeConflict?
            parsed.fields.removeAll { field in
                guard let conflict = known.keys.first(where: { $0.matches(measurement: measurement, field) }) else { return false }
                result.dropped[field.key, default: 0] += 1
                lastConflict = conflict
                return true
            }
            if let text = parsed.text {
                result.lines.append(text)
            } else if let lastConflict {
                result.emptied.append((line, lastConflict))
            }
        }
        return result
    }
}
