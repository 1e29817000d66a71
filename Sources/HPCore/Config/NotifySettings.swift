/// `notify:` — where raised and resolved alerts are sent: channels (receivers), routes (which
/// alerts go to which channels, with grouping, quiet hours and repeats) and the durable outbox.
/// Absent section: no notifications.
public struct NotifySettings: Sendable, Hashable {
    public var enabled: Bool = false
    public var channels: [NotifyChannel] = []
    public var routes: [NotifyRoute] = []
    /// Undelivered messages older than this are dropped (counted), seconds.
    public var outboxMaxAge: Double = 86400
    /// Rows the outbox keeps at most (delivered history first, then the oldest undelivered).
    public var outboxMaxRows: Int = 10_000
    /// Per-channel backoff after a failed delivery: first wait and cap, seconds (doubling, jittered).
    public var retryInitial: Double = 5
    public var retryMax: Double = 300

    public init() {}

    public func channel(named name: String) -> NotifyChannel? { channels.first { $0.name == name } }
}

/// One receiver. Secrets (tokens, passwords) come only from files or environment variables named
/// in the configuration, read at each delivery, and are never logged or shown.
public struct NotifyChannel: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case webhook, email, ntfy, gotify, alertmanager
    }

    public var name: String
    public var kind: Kind
    /// webhook: the POST URL; ntfy: the topic URL; gotify: the server base URL; alertmanager: the
    /// base URL (`/api/v2/alerts` is appended); email: `smtp://host:port` or `smtps://host:port`.
    public var url: String
    /// Extra HTTP headers (webhook, ntfy, gotify, alertmanager). Values are never logged.
    public var headers: [String: String] = [:]
    /// A bearer token (webhook, ntfy, alertmanager) or the app token (gotify): from a file or an environment variable.
    public var tokenFile: String = ""
    public var tokenEnv: String = ""
    public var timeout: Double = 10
    public var caFile: String = ""
    public var insecureSkipVerify: Bool = false
    // email
    public var from: String = ""
    public var to: [String] = []
    public var username: String = ""
    public var passwordFile: String = ""
    public var passwordEnv: String = ""
    /// Upgrade `smtp://` with STARTTLS and refuse to send without it.
    public var starttls: Bool = true
    // ntfy / gotify
    /// ntfy: 1-5 (min, low, default, high, urgent); gotify: 0-10. Nil: derived from the severity.
    public var priority: Int?
    public var tags: [String] = []

    public init(name: String, kind: Kind, url: String) {
        self.name = name
        self.kind = kind
        self.url = url
    }
}

/// Which alerts go where. The first matching route wins unless it says `continue: true`.
public struct NotifyRoute: Sendable, Hashable {
    public var name: String
    /// Empty: every severity.
    public var severities: [String] = []
    /// Device locations (from the devices file); empty: every location.
    public var locations: [String] = []
    /// Sites (`site.id`); empty: every site.
    public var sites: [String] = []
    /// Alert rule names; empty: every rule.
    public var rules: [String] = []
    public var channels: [String] = []
    /// Labels alerts are grouped by: `alert`, `location`, `site`, `severity`, `heatpump_id`; empty: one group per route.
    public var groupBy: [String] = ["location", "alert"]
    /// Wait after a group's first alert before its first message, collecting more (seconds).
    public var groupWait: Double = 30
    /// Wait before a message about alerts added to or resolved in an already notified group (seconds).
    public var groupInterval: Double = 300
    /// A group still firing is notified again after this long (seconds).
    public var repeatInterval: Double = 4 * 3600
    public var sendResolved: Bool = true
    public var quietHours: QuietHours?
    public var continueMatching: Bool = false

    public init(name: String) { self.name = name }

    public static let groupLabels = ["alert", "location", "site", "severity", "heatpump_id"]

    public func matches(severity: String, location: String, site: String, rule: String) -> Bool {
        (severities.isEmpty || severities.contains(severity)) && (locations.isEmpty || locations.contains(location))
            && (sites.isEmpty || sites.contains(site)) && (rules.isEmpty || rules.contains(rule))
    }
}

/// A daily window (daemon-local time unless `timezone` is set) in which a route sends nothing;
/// what comes up then is sent when the window ends. Critical alerts may bypass it.
public struct QuietHours: Sendable, Hashable {
    /// Minutes after midnight; `end < start` spans midnight (22:00-07:00).
    public var start: Int
    public var end: Int
    /// Weekdays the window starts on (1 = Sunday … 7 = Saturday, as `Calendar`); empty: every day.
    public var weekdays: [Int] = []
    /// An IANA time zone name; empty: the daemon's local time.
    public var timezone: String = ""
    public var criticalBypass: Bool = false

    public init(start: Int, end: Int, weekdays: [Int] = [], timezone: String = "", criticalBypass: Bool = false) {
        self.start = start
        self.end = end
        self.weekdays = weekdays
        self.timezone = timezone
        self.criticalBypass = criticalBypass
    }
}
