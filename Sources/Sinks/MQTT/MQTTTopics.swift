import HPCore

/// The topic layout: `<prefix>/<site>/status`, `<prefix>/<site>/<id>/{state,availability,<register>,<register>/set}`.
/// Without `site:` the site level is `default`, so the layout (and HA's subscriptions) keep their depth.
struct MQTTTopics: Sendable {
    static let defaultSite = "default"
    /// Register names that would collide with a device's own topics; those registers are in the state JSON only.
    static let reservedLevels: Set<String> = ["state", "availability"]

    let prefix: String
    let site: String

    init(prefix: String, site: SiteSettings) {
        self.prefix = prefix
        self.site = site.isConfigured ? site.id : Self.defaultSite
    }

    var base: String { "\(prefix)/\(site)" }
    /// The daemon's availability: `online` after connecting, `offline` as Last Will and on shutdown.
    var status: String { "\(base)/status" }
    func device(_ id: String) -> String { "\(base)/\(Self.level(id))" }
    func state(_ id: String) -> String { "\(device(id))/state" }
    func availability(_ id: String) -> String { "\(device(id))/availability" }
    /// Nil for names the layout reserves.
    func register(_ id: String, _ name: String) -> String? {
        let level = Self.level(name)
        return Self.reservedLevels.contains(level) ? nil : "\(device(id))/\(level)"
    }
    func set(_ id: String, _ name: String) -> String? { register(id, name).map { "\($0)/set" } }
    /// What the sink subscribes to when writes are allowed.
    var setPattern: String { "\(base)/+/+/set" }

    /// Splits `<base>/<id>/<register>/set` into its device and register levels; nil for anything else.
    func parseSet(_ topic: String) -> (id: String, register: String)? {
        guard topic.hasPrefix(base + "/") else { return nil }
        let rest = topic.dropFirst(base.utf8.count + 1).split(separator: "/", omittingEmptySubsequences: false)
        guard rest.count == 3, rest[2] == "set", !rest[0].isEmpty, !rest[1].isEmpty else { return nil }
        return (String(rest[0]), String(rest[1]))
    }

    /// One topic level: `/`, `+`, `#` and control characters become `_` (they would split or match levels).
    static func level(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "/" || $0 == "+" || $0 == "#" || $0.value < 0x20 }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { ($0 == "/" || $0 == "+" || $0 == "#" || $0.value < 0x20) ? "_" : $0 }))
    }
}
