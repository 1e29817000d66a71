import Foundation

/// Parses `notify:` — every key checked, every number range-checked, secrets only from files or
/// environment variables (never written into collector.yml, which is often world-readable).
enum NotifyParser {
    static let durations: ClosedRange<Double> = 0...ConfigLimits.week
    static let timeouts: ClosedRange<Double> = 0.1...300

    static func parse(_ node: YAMLNode) throws -> NotifySettings {
        let map = try node.mapping()
        var s = NotifySettings()
        s.enabled = try map.bool("enabled", default: true)
        if let outbox = try map.optional("outbox")?.mapping() {
            s.outboxMaxAge = try outbox.seconds("max_age", default: s.outboxMaxAge, within: 60...(30 * ConfigLimits.day))
            s.outboxMaxRows = try outbox.int("max_rows", default: s.outboxMaxRows, within: 10...10_000_000)
            try outbox.rejectUnknownKeys()
        }
        if let retry = try map.optional("retry")?.mapping() {
            s.retryInitial = try retry.seconds("initial", default: s.retryInitial, within: 0.05...ConfigLimits.hour)
            s.retryMax = try retry.seconds("max", default: max(s.retryMax, s.retryInitial), within: 0.05...ConfigLimits.day)
            if s.retryMax < s.retryInitial {
                throw try retry.required("max").error(.invalidValue, "max (\(s.retryMax)) must not be below initial (\(s.retryInitial))")
            }
            try retry.rejectUnknownKeys()
        }
        var names: Set<String> = []
        for item in try map.optional("channels")?.sequence() ?? [] {
            let channel = try self.channel(item)
            guard names.insert(channel.name).inserted else { throw item.error(.duplicate, "channel name \"\(channel.name)\" is used twice") }
            s.channels.append(channel)
        }
        var routeNames: Set<String> = []
        for (index, item) in (try map.optional("routes")?.sequence() ?? []).enumerated() {
            let route = try self.route(item, index: index, channels: names)
            guard routeNames.insert(route.name).inserted else { throw item.error(.duplicate, "route name \"\(route.name)\" is used twice") }
            s.routes.append(route)
        }
        if s.enabled, !s.channels.isEmpty, s.routes.isEmpty {
            throw node.error(.missingKey, "notify needs at least one route (which alerts go to which channels)")
        }
        try map.rejectUnknownKeys()
        return s
    }

    private static func channel(_ node: YAMLNode) throws -> NotifyChannel {
        let map = try node.mapping()
        let nameNode = try map.required("name")
        let name = try nameNode.string()
        guard SiteSettings.isValidID(name) else {
            throw nameNode.error(.invalidValue, "name must be 1-64 letters, digits, '_', '-' or '.' (it is a metrics label), found \"\(name)\"")
        }
        let typeNode = try map.required("type")
        let typeText = try typeNode.string().lowercased()
        guard let kind = NotifyChannel.Kind(rawValue: typeText) else {
            throw typeNode.error(.invalidValue, "type must be one of \(NotifyChannel.Kind.allCases.map(\.rawValue).joined(separator: ", ")), found \"\(typeText)\"")
        }
        let urlNode = try map.required("url")
        let url = try urlNode.string()
        let schemes = kind == .email ? ["smtp://", "smtps://"] : ["http://", "https://"]
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }), url.count > scheme.count, !url.contains(where: { $0 == " " || $0 == "\n" }) else {
            throw urlNode.error(.invalidValue, "a \(kind.rawValue) url must start with \(schemes.joined(separator: " or ")), found \"\(CurlURL.redacted(url))\"")
        }
        if Self.hasUserInfo(url) { throw urlNode.error(.invalidValue, "the url must not hold user info (user:password@): use username and password_file or token_file") }
        var c = NotifyChannel(name: name, kind: kind, url: url)
        c.timeout = try map.seconds("timeout", default: c.timeout, within: timeouts)
        c.caFile = try map.string("ca_file", default: "")
        c.insecureSkipVerify = try map.bool("insecure_skip_verify", default: false)
        for key in ["token", "password"] {
            if let secret = map.optional(key) {
                throw secret.error(.invalidValue, "\(key) is read from \(key)_file or \(key)_env only (collector.yml is often world-readable and shown by tools)")
            }
        }
        if kind != .email {
            c.tokenFile = try map.string("token_file", default: "")
            c.tokenEnv = try map.string("token_env", default: "")
            if !c.tokenFile.isEmpty && !c.tokenEnv.isEmpty { throw node.error(.invalidValue, "token_file and token_env exclude each other") }
            if kind == .gotify && c.tokenFile.isEmpty && c.tokenEnv.isEmpty { throw node.error(.missingKey, "a gotify channel needs token_file or token_env (the app token)") }
            if let headersNode = map.optional("headers") { c.headers = try headers(headersNode) }
        }
        switch kind {
        case .email:
            let fromNode = try map.required("from")
            c.from = try fromNode.string()
            guard isAddress(c.from) else { throw fromNode.error(.invalidValue, "from must be an email address, found \"\(c.from)\"") }
            let toNode = try map.required("to")
            c.to = try (toNode.sequence()).map { try $0.string() }
            guard !c.to.isEmpty else { throw toNode.error(.invalidValue, "to needs at least one address") }
            if let bad = c.to.first(where: { !isAddress($0) }) { throw toNode.error(.invalidValue, "\"\(bad)\" is not an email address") }
            c.username = try map.string("username", default: "")
            c.passwordFile = try map.string("password_file", default: "")
            c.passwordEnv = try map.string("password_env", default: "")
            if !c.passwordFile.isEmpty && !c.passwordEnv.isEmpty { throw node.error(.invalidValue, "password_file and password_env exclude each other") }
            if (!c.passwordFile.isEmpty || !c.passwordEnv.isEmpty) && c.username.isEmpty { throw node.error(.invalidValue, "a password needs a username") }
            c.starttls = try map.bool("starttls", default: url.hasPrefix("smtp://"))
            if c.starttls && url.hasPrefix("smtps://") { throw try map.required("starttls").error(.invalidValue, "starttls applies to smtp:// (smtps:// is TLS from the start)") }
        case .ntfy:
            c.priority = try map.optional("priority")?.int(within: 1...5)
            c.tags = try map.optional("tags")?.sequence().map { try $0.string() } ?? []
        case .gotify:
            c.priority = try map.optional("priority")?.int(within: 0...10)
        case .webhook, .alertmanager:
            break
        }
        try map.rejectUnknownKeys()
        return c
    }

    private static func route(_ node: YAMLNode, index: Int, channels: Set<String>) throws -> NotifyRoute {
        let map = try node.mapping()
        var r = NotifyRoute(name: try map.string("name", default: "route\(index + 1)"))
        r.severities = try list(map, "severity")
        if let bad = r.severities.first(where: { !["info", "warning", "critical"].contains($0) }) {
            throw try map.required("severity").error(.invalidValue, "severity must be info, warning or critical, found \"\(bad)\"")
        }
        r.locations = try list(map, "location")
        r.sites = try list(map, "site")
        r.rules = try list(map, "alert")
        let channelsNode = try map.required("channels")
        r.channels = try channelsNode.sequence().map { try $0.string() }
        guard !r.channels.isEmpty else { throw channelsNode.error(.invalidValue, "a route needs at least one channel") }
        if let unknown = r.channels.first(where: { !channels.contains($0) }) {
            throw channelsNode.error(.invalidValue, "no channel named \"\(unknown)\"; channels: \(channels.sorted().joined(separator: ", "))")
        }
        if map.optional("group_by") != nil {
            r.groupBy = try list(map, "group_by")
            if let bad = r.groupBy.first(where: { !NotifyRoute.groupLabels.contains($0) }) {
                throw try map.required("group_by").error(.invalidValue, "group_by labels are \(NotifyRoute.groupLabels.joined(separator: ", ")), found \"\(bad)\"")
            }
        }
        r.groupWait = try map.seconds("group_wait", default: r.groupWait, within: durations)
        r.groupInterval = try map.seconds("group_interval", default: r.groupInterval, within: 0.05...ConfigLimits.week)
        r.repeatInterval = try map.seconds("repeat_interval", default: r.repeatInterval, within: 1...(30 * ConfigLimits.day))
        r.sendResolved = try map.bool("send_resolved", default: true)
        r.continueMatching = try map.bool("continue", default: false)
        if let quiet = map.optional("quiet_hours") { r.quietHours = try quietHours(quiet) }
        try map.rejectUnknownKeys()
        return r
    }

    static let weekdayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    private static func quietHours(_ node: YAMLNode) throws -> QuietHours {
        let map = try node.mapping()
        let start = try clock(try map.required("start"))
        let end = try clock(try map.required("end"))
        guard start != end else { throw node.error(.invalidValue, "start and end are the same time (an empty window)") }
        var q = QuietHours(start: start, end: end)
        for day in try list(map, "days") {
            guard let index = weekdayNames.firstIndex(of: String(day.lowercased().prefix(3))) else {
                throw try map.required("days").error(.invalidValue, "days are mon, tue, wed, thu, fri, sat, sun; found \"\(day)\"")
            }
            q.weekdays.append(index + 1)
        }
        if let zoneNode = map.optional("timezone") {
            q.timezone = try zoneNode.string()
            guard TimeZone(identifier: q.timezone) != nil else { throw zoneNode.error(.invalidValue, "unknown time zone \"\(q.timezone)\" (an IANA name such as Europe/Berlin)") }
        }
        q.criticalBypass = try map.bool("critical_bypass", default: false)
        try map.rejectUnknownKeys()
        return q
    }

    /// `HH:MM` as minutes after midnight; `24:00` is midnight at the end of the day.
    private static func clock(_ node: YAMLNode) throws -> Int {
        let text = try node.string()
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...24).contains(h), (0..<60).contains(m),
              h * 60 + m <= 1440 else {
            throw node.error(.invalidValue, "expected a time HH:MM (00:00-24:00), found \"\(text)\"")
        }
        return (h * 60 + m) % 1440
    }

    private static func list(_ map: YAMLMapping, _ key: String) throws -> [String] {
        guard let node = map.optional(key) else { return [] }
        if case .scalar = node.node { return [try node.string()] }
        return try node.sequence().map { try $0.string() }
    }

    private static func headers(_ node: YAMLNode) throws -> [String: String] {
        let map = try node.mapping()
        var result: [String: String] = [:]
        for key in map.keys {
            let valueNode = try map.required(key)
            let value = try valueNode.string()
            guard !key.isEmpty, key.utf8.allSatisfy({ c in (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || "!#$%&'*+-.^_`|~".utf8.contains(c) }) else {
                throw valueNode.error(.invalidValue, "header name \"\(key)\" is not an HTTP token")
            }
            guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else { throw valueNode.error(.invalidValue, "header \(key) must not contain line breaks") }
            guard !["content-type", "content-length", "authorization"].contains(key.lowercased()) else {
                throw valueNode.error(.invalidValue, "header \(key) is set by hpmanager (use token_file or token_env for Authorization)")
            }
            result[key] = value
        }
        try map.rejectUnknownKeys()
        return result
    }

    private static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(where: { $0 == " " || $0 == "<" || $0 == ">" || $0 == "\r" || $0 == "\n" || $0 == "," })
    }

    private static func hasUserInfo(_ url: String) -> Bool {
        guard let scheme = url.range(of: "://") else { return false }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return authority.contains("@")
    }
}

/// URL text safe to show: scheme, host, port and path only.
enum CurlURL {
    static func redacted(_ url: String) -> String {
        var text = Substring(url)
        if let cut = text.firstIndex(where: { $0 == "?" || $0 == "#" }) { text = text[..<cut] }
        if let scheme = text.range(of: "://") {
            let rest = text[scheme.upperBound...]
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            if let at = rest[..<end].lastIndex(of: "@") { return String(text[..<scheme.upperBound]) + String(rest[rest.index(after: at)...]) }
        }
        return String(text)
    }
}
