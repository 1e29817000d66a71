/// Appends exposition-format lines to one byte buffer.
struct MetricsRenderer {
    var out: [UInt8] = []

    mutating func header(_ name: String, _ help: String, _ kind: MetricFamily.Kind) {
        out.append(contentsOf: "# HELP ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: PrometheusText.escapeHelp(help).utf8)
        out.append(contentsOf: "\n# TYPE ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: kind.rawValue.utf8)
        out.append(UInt8(ascii: "\n"))
    }

    /// `name{labels[,extra]} value`, formatted straight into the buffer (this runs for every
    /// register of every device on every rewrite).
    mutating func line(_ name: String, _ labels: [UInt8], _ extra: String?, _ value: Double) {
        line(Array(name.utf8), labels, extra.map { Array($0.utf8) }, value)
    }

    /// The same with the name and extra label already as bytes: the hot loops convert them once per
    /// family, not once per line.
    mutating func line(_ name: [UInt8], _ labels: [UInt8], _ extra: [UInt8]?, _ value: Double) {
        out.append(contentsOf: name)
        out.append(UInt8(ascii: "{"))
        out.append(contentsOf: labels)
        if let extra {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: extra)
        }
        out.append(contentsOf: "} ".utf8)
        if value.isFinite {
            ByteText.append(value, to: &out)
        } else {
            out.append(contentsOf: PrometheusText.format(value).utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }
}
