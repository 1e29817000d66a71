import HPCore

/// One sample for remote write: its metric name, the series' other labels (shared by a poll's
/// samples, sorted by name as receivers require), value and timestamp in milliseconds.
///
/// The spool keeps samples as text lines in the exposition format with a timestamp
/// (`heatpump_flow_temp{heatpump_id="hp1",site="a"} 35.5 1700000000000`): readable in the
/// dead-letter table, one line per sample, and parsed back exactly (`line` ⇄ `init?(line:)`).
struct RemoteWriteSample: Sendable, Hashable {
    /// The labels besides `__name__`.
    var series: RemoteWriteLabelSet
    var name: String
    var value: Double
    var timestamp: Int64

    init(name: String, series: RemoteWriteLabelSet, value: Double, timestamp: Int64) {
        self.series = series
        self.name = name
        self.value = value
        self.timestamp = timestamp
    }

    /// A `__name__` among `labels` is ignored: `name` is the metric name.
    init(name: String, labels: [SeriesLabel], value: Double, timestamp: Int64) {
        self.init(name: name, series: RemoteWriteLabelSet(labels), value: value, timestamp: timestamp)
    }

    /// All labels, `__name__` included, sorted by name (byte order).
    var labels: [SeriesLabel] {
        var all = series.labels
        let at = all.firstIndex { !$0.name.utf8.lexicographicallyPrecedes(RemoteWriteProto.nameLabel.utf8) } ?? all.count
        all.insert(SeriesLabel(name: RemoteWriteProto.nameLabel, value: name), at: at)
        return all
    }

    static func == (a: RemoteWriteSample, b: RemoteWriteSample) -> Bool {
        a.name == b.name && a.value == b.value && a.timestamp == b.timestamp && a.series.sameLabels(as: b.series)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(series.hash)
        hasher.combine(name)
        hasher.combine(value)
        hasher.combine(timestamp)
    }

    /// The spool line (the labels' text is made once per label set).
    var line: String {
        // Swift's shortest round-trip text: Double(text) gives back the same bits.
        name + "{" + series.text + "} \(value) \(timestamp)"
    }
    /// Parses a spool line; nil when it is not one this type wrote.
    init?(line: String) {
        self.init(line: Array(line.utf8))
    }

    /// Parses a spool line's bytes; nil when it is not one this type wrote.
    init?(line bytes: [UInt8]) {
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")), open > 0 else { return nil }
        let name = String(decoding: bytes[..<open], as: UTF8.self)
        var labels: [SeriesLabel] = []
        var i = open + 1
        while i < bytes.count, bytes[i] != UInt8(ascii: "}") {
            guard let eq = bytes[i...].firstIndex(of: UInt8(ascii: "=")), eq + 1 < bytes.count, bytes[eq + 1] == UInt8(ascii: "\"") else { return nil }
            let key = String(decoding: bytes[i..<eq], as: UTF8.self)
            var value: [UInt8] = []
            var j = eq + 2
            var closed = false
            while j < bytes.count {
                let c = bytes[j]
                if c == UInt8(ascii: "\\"), j + 1 < bytes.count {
                    let next = bytes[j + 1]
                    value.append(next == UInt8(ascii: "n") ? UInt8(ascii: "\n") : next)
                    j += 2
                } else if c == UInt8(ascii: "\"") {
                    closed = true
                    j += 1
                    break
                } else {
                    value.append(c)
                    j += 1
                }
            }
            guard closed, !key.isEmpty else { return nil }
            labels.append(SeriesLabel(name: key, value: String(decoding: value, as: UTF8.self)))
            if j < bytes.count, bytes[j] == UInt8(ascii: ",") { j += 1 }
            i = j
        }
        guard i < bytes.count, let (value, timestamp) = Self.valueAndTimestamp(bytes[(i + 1)...]) else { return nil }
        // The text between the braces is what `line` wrote: the label set keeps it instead of escaping again.
        self.init(name: name, series: RemoteWriteLabelSet(labels, text: String(decoding: bytes[(open + 1)..<i], as: UTF8.self)), value: value, timestamp: timestamp)
    }

    /// What follows a spool line's `}`: ` value timestamp`.
    static func valueAndTimestamp(_ rest: ArraySlice<UInt8>) -> (Double, Int64)? {
        let parts = String(decoding: rest, as: UTF8.self).split(separator: " ")
        guard parts.count == 2, let value = Double(parts[0]), let timestamp = Int64(parts[1]) else { return nil }
        return (value, timestamp)
    }
}
