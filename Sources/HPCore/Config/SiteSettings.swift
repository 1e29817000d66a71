/// `site:` — who this daemon is when many sites feed one central engine.
///
/// `id` becomes the `site` label of every Prometheus series and the `site` tag of every InfluxDB
/// point; `labels` (e.g. `region: eu-west`) go beside it. Device ids only need to be unique within a site.
public struct SiteSettings: Sendable, Hashable {
    public var id: String = ""
    /// Human-readable name, carried by `hpmanager_site_info{site_name=…}` only.
    public var name: String = ""
    /// Extra labels, sorted by name.
    public var labels: [SeriesLabel] = []

    public init(id: String = "", name: String = "", labels: [SeriesLabel] = []) {
        self.id = id
        self.name = name
        self.labels = labels.sorted { $0.name < $1.name }
    }

    /// No `site:` section: outputs carry no site label (single-site installs keep their series).
    public var isConfigured: Bool { !id.isEmpty }

    /// What every series and point carries: `site`, then the extra labels in name order.
    public var seriesLabels: [SeriesLabel] {
        guard isConfigured else { return [] }
        return [SeriesLabel(name: "site", value: id)] + labels
    }

    /// Label names our own series use; a site label with one of these names would duplicate it.
    public static let reservedLabels: Set<String> = [
        "site", "site_name", "heatpump_id", "heat_pump_id", "name", "location", "model", "manufacturer",
        "state", "bit", "value", "sink", "reason", "field", "result", "path", "link", "rule", "severity",
        "commit", "version", "remote_name", "job", "instance", "le", "quantile", "__name__",
    ]

    /// Prometheus label names: `[a-zA-Z_][a-zA-Z0-9_]*`, and `__` is reserved for internal use.
    public static func isValidLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !name.hasPrefix("__") else { return false }
        func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 }
        return letter(first) && name.utf8.allSatisfy { letter($0) || ($0 >= 48 && $0 <= 57) }
    }

    /// Site ids also name MQTT topics and file paths: letters, digits, `_`, `-`, `.`; 1-64 bytes.
    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && !id.hasPrefix(".")
            && id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 45 || $0 == 46 }
    }

    /// Label values: non-empty (an empty value is an absent label; InfluxDB has no empty tags),
    /// at most 256 bytes, no control characters (they would break line protocol and log lines).
    public static func isValidLabelValue(_ value: String) -> Bool {
        (1...256).contains(value.utf8.count) && !value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
