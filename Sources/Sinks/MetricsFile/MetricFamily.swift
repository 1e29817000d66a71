/// One metric family being rendered: HELP, TYPE and its sample lines (kept together, as the format requires).
struct MetricFamily {
    enum Kind: String, Sendable { case gauge, counter }

    let name: String
    let help: String
    let kind: Kind
    var lines: [String] = []

    mutating func add(_ labels: String, _ value: Double) {
        lines.append(labels.isEmpty ? "\(name) \(PrometheusText.format(value))" : "\(name){\(labels)} \(PrometheusText.format(value))")
    }

    func render(into out: inout String) {
        guard !lines.isEmpty else { return }
        out += "# HELP \(name) \(PrometheusText.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        for line in lines {
            out += line
            out += "\n"
        }
    }
}

/// Families keyed by name, created on first use.
struct MetricFamilies {
    private var families: [String: MetricFamily] = [:]
    /// Labels every line carries before its own (the site's), already rendered.
    let prefix: String

    init(prefix: String = "") {
        self.prefix = prefix
    }

    mutating func add(_ name: String, help: String, kind: MetricFamily.Kind = .gauge, labels: String, value: Double) {
        if families[name] == nil { families[name] = MetricFamily(name: name, help: help, kind: kind) }
        families[name]?.add(prefix.isEmpty ? labels : labels.isEmpty ? prefix : prefix + "," + labels, value)
    }

    func render() -> String {
        var out = ""
        for name in families.keys.sorted() { families[name]?.render(into: &out) }
        return out
    }
}
