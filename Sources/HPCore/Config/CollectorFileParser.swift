/// Parses `collector.yml`: HPManager's sections plus ours.
struct CollectorFileParser {
    let expander: EnvironmentExpander

    func parse(text: String, file: String) throws -> CollectorConfig {
        var config = CollectorConfig()
        guard let root = try YAMLDocument.compose(text, file: file, expander: expander) else { return config }
        let top = try root.mapping()
        if let node = top.optional("collector") { config.collector = try collector(node) }
        if let node = top.optional("influxdb") { config.influxdb = try influx(node) }
        if let node = top.optional("logging") { config.logging = try logging(node) }
        if let node = top.optional("metrics_file") { config.metricsFile = try metricsFile(node) }
        if let node = top.optional("sqlite") { config.sqlite = try sqlite(node) }
        if let node = top.optional("control_socket") { config.controlSocket = try controlSocket(node) }
        if let node = top.optional("http") { config.http = try http(node) }
        if let node = top.optional("supervisor") { config.supervisor = try supervisor(node) }
        if let node = top.optional("alerts") { config.alerts = try alerts(node) }
        if let node = top.optional("writes") { config.writes = try writes(node) }
        if let node = top.optional("site") { config.site = try site(node) }
        if let node = top.optional("remote_write") { config.remoteWrite = try RemoteWriteParser.parse(node) }
        if let node = top.optional("mqtt") { config.mqtt = try MQTTParser.parse(node) }
        if let node = top.optional("notify") { config.notify = try NotifyParser.parse(node) }
        try top.rejectUnknownKeys()
        return config
    }

    private func collector(_ node: YAMLNode) throws -> CollectorSettings {
        let map = try node.mapping()
        var s = CollectorSettings()
        s.pollInterval = try map.seconds("poll_interval", default: s.pollInterval, within: ConfigLimits.pollInterval)
        s.batchSize = try ranged(map, "batch_size", s.batchSize, ConfigLimits.batchSize)
        s.batchInterval = try map.seconds("batch_interval", default: s.batchInterval, within: ConfigLimits.batchInterval)
        s.maxGap = try ranged(map, "max_gap", s.maxGap, 0...124)
        s.maxRegistersPerRequest = try ranged(map, "max_registers_per_request", s.maxRegistersPerRequest, 1...125)
        s.maxBitsPerRequest = try ranged(map, "max_bits_per_request", s.maxBitsPerRequest, 1...2000)
        s.ioThreads = try ranged(map, "io_threads", s.ioThreads, 1...64)
        s.reconnectRate = try map.double("reconnect_rate", default: s.reconnectRate, within: ConfigLimits.reconnectRate)
        s.reconnectBurst = try ranged(map, "reconnect_burst", s.reconnectBurst, 1...100_000)
        s.backoffInitial = try map.seconds("backoff_initial", default: s.backoffInitial, within: ConfigLimits.backoff)
        s.backoffMax = try map.seconds("backoff_max", default: s.backoffMax, within: ConfigLimits.backoff)
        s.quarantineRetry = try map.seconds("quarantine_retry", default: s.quarantineRetry, within: ConfigLimits.quarantineRetry)
        s.shutdownTimeout = try map.seconds("shutdown_timeout", default: s.shutdownTimeout, within: ConfigLimits.shutdownTimeout)
        try map.rejectUnknownKeys()
        return s
    }

    private func influx(_ node: YAMLNode) throws -> InfluxSettings {
        let map = try node.mapping()
        var s = InfluxSettings()
        s.url = try map.string("url", default: s.url)
        s.org = try map.string("org", default: s.org)
        s.bucket = try map.string("bucket", default: s.bucket)
        s.token = try map.string("token", default: s.token)
        s.tokenFile = try map.string("token_file", default: s.tokenFile)
        s.timeout = try map.seconds("timeout", default: s.timeout, within: ConfigLimits.influxTimeout)
        s.retryInterval = try map.seconds("retry_interval", default: s.retryInterval, within: ConfigLimits.influxRetryInterval)
        s.retryIntervalMax = try map.seconds("retry_interval_max", default: max(s.retryIntervalMax, s.retryInterval),
                                             within: ConfigLimits.influxRetryInterval)
        if let node = map.optional("retry_interval_max"), s.retryIntervalMax < s.retryInterval {
            throw node.error(.invalidValue, "retry_interval_max (\(s.retryIntervalMax)) must not be below retry_interval (\(s.retryInterval))")
        }
        if let node = map.optional("field_types") {
            let text = try node.string().lowercased()
            guard let types = InfluxFieldTypes(rawValue: text) else {
                throw node.error(.invalidValue, "field_types must be float or native, found \"\(text)\"")
            }
            s.fieldTypes = types
        }
        s.deadLetterRetention = try map.seconds("dead_letter_retention", default: s.deadLetterRetention, within: ConfigLimits.deadLetterRetention)
        s.deadLetterMax = try ranged(map, "dead_letter_max", s.deadLetterMax, 0...10_000_000)
        s.database = try map.string("database", default: s.database)
        s.retentionPolicy = try map.string("retention_policy", default: s.retentionPolicy)
        s.username = try map.string("username", default: s.username)
        s.password = try map.string("password", default: s.password)
        s.caFile = try map.string("ca_file", default: s.caFile)
        s.insecureSkipVerify = try map.bool("insecure_skip_verify", default: false)
        s.gzip = try map.bool("gzip", default: false)
        s.spoolMaxMB = try ranged(map, "spool_max_mb", s.spoolMaxMB, 1...1_000_000)
        s.spoolPath = try map.string("spool_path", default: "")
        if let precisionNode = map.optional("precision") {
            let text = try precisionNode.string().lowercased()
            guard text == "ns" || text == "s" else { throw precisionNode.error(.invalidValue, "precision must be ns or s, found \"\(text)\"") }
            s.precision = text
        }
        let defaultVersion = (!s.database.isEmpty && s.bucket.isEmpty) ? 1 : 2
        s.version = try map.int("version", default: defaultVersion)
        guard s.version == 1 || s.version == 2 else { throw node.error(.invalidValue, "version must be 1 or 2, found \(s.version)") }
        // HPManager has no `enabled`: a section with a URL means "write to InfluxDB".
        s.enabled = try map.bool("enabled", default: !s.url.isEmpty)
        if s.enabled {
            guard s.url.hasPrefix("http://") || s.url.hasPrefix("https://") else {
                throw node.error(.invalidValue, "url must start with http:// or https://, found \"\(s.url)\"")
            }
            if s.version == 1 && s.database.isEmpty { throw node.error(.missingKey, "version 1 needs database") }
            if s.version == 2 && (s.org.isEmpty || s.bucket.isEmpty) { throw node.error(.missingKey, "version 2 needs org and bucket") }
        }
        try map.rejectUnknownKeys()
        return s
    }

    private func logging(_ node: YAMLNode) throws -> LoggingSettings {
        let map = try node.mapping()
        var s = LoggingSettings()
        if let levelNode = map.optional("level") {
            let text = try levelNode.string()
            guard let level = Self.logLevel(text) else {
                throw levelNode.error(.invalidValue, "unknown level \"\(text)\"; expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
            }
            s.level = level
        }
        if let formatNode = map.optional("format") {
            let text = try formatNode.string().lowercased()
            guard let format = LoggingSettings.Format(rawValue: text) else {
                throw formatNode.error(.invalidValue, "format must be json or text, found \"\(text)\"")
            }
            s.format = format
        }
        s.file = try map.string("file", default: "")
        try map.rejectUnknownKeys()
        return s
    }

    /// Maps HPManager/Python level names (any case) to swift-log level names.
    public static func logLevel(_ text: String) -> String? {
        switch text.lowercased() {
        case "trace": "trace"
        case "debug": "debug"
        case "info": "info"
        case "notice": "notice"
        case "warning", "warn": "warning"
        case "error": "error"
        case "critical", "fatal": "critical"
        default: nil
        }
    }

    private func metricsFile(_ node: YAMLNode) throws -> MetricsFileSettings {
        let map = try node.mapping()
        var s = MetricsFileSettings()
        s.enabled = try map.bool("enabled", default: true)
        s.path = try map.string("path", default: s.path)
        s.interval = try map.optional("interval")?.seconds(within: ConfigLimits.metricsFileInterval)
        if s.enabled && !s.path.hasSuffix(".prom") {
            throw node.error(.invalidValue, "path must end in .prom (node_exporter's textfile collector reads only *.prom), found \"\(s.path)\"")
        }
        try map.rejectUnknownKeys()
        return s
    }

    private func sqlite(_ node: YAMLNode) throws -> SQLiteSettings {
        let map = try node.mapping()
        var s = SQLiteSettings()
        s.path = try map.string("path", default: s.path)
        // 0 turns the reading history off (registry, events, alerts and audit are still kept).
        if let node = map.optional("readings_retention") {
            let value = try node.seconds(within: 0...ConfigLimits.readingsRetention.upperBound)
            s.readingsRetention = value == 0 ? 0 : try node.seconds(within: ConfigLimits.readingsRetention)
        }
        s.derivedStateInterval = try map.optional("derived_state_interval")?.seconds(within: ConfigLimits.derivedStateInterval) ?? s.derivedStateInterval
        try map.rejectUnknownKeys()
        return s
    }

    private func controlSocket(_ node: YAMLNode) throws -> ControlSocketSettings {
        let map = try node.mapping()
        var s = ControlSocketSettings()
        s.path = try map.string("path", default: s.path)
        if let modeNode = map.optional("mode") {
            let text = try modeNode.string()
            guard let mode = Int(text, radix: 8), (0...0o777).contains(mode) else {
                throw modeNode.error(.invalidValue, "mode must be an octal file mode like 0660, found \"\(text)\"")
            }
            s.mode = mode
        }
        if let groupNode = map.optional("group") {
            s.group = try groupNode.string()
            // Checked here, not when the socket is created: --check must catch it and start-up must exit 78.
            if !s.group.isEmpty && GroupLookup.gid(s.group) == nil {
                throw groupNode.error(.invalidValue, "unknown group \"\(s.group)\" (no such group in the system's group database)")
            }
        }
        s.idleTimeout = try map.seconds("idle_timeout", default: s.idleTimeout, within: ConfigLimits.idleTimeout)
        s.maxClients = try ranged(map, "max_clients", s.maxClients, 1...10_000)
        s.maxRequestBytes = try ranged(map, "max_request_bytes", s.maxRequestBytes, 256...16_777_216)
        if s.path.utf8.count > 107 { throw node.error(.invalidValue, "path is longer than the 107 bytes a Unix socket path may have") }
        try map.rejectUnknownKeys()
        return s
    }

    private func http(_ node: YAMLNode) throws -> HTTPSettings {
        let map = try node.mapping()
        var s = HTTPSettings()
        s.enabled = try map.optional("enabled")?.bool() ?? true
        if let listenNode = map.optional("listen") {
            let text = try listenNode.string()
            guard let (host, port) = Self.hostPort(text) else {
                throw listenNode.error(.invalidValue, "listen must be host:port (e.g. 127.0.0.1:8080 or [::1]:8080), found \"\(text)\"")
            }
            s.host = host
            s.port = port
        }
        if let tlsNode = map.optional("tls") {
            let tls = try tlsNode.mapping()
            s.certFile = try tls.string("cert_file", default: "")
            s.keyFile = try tls.string("key_file", default: "")
            if s.certFile.isEmpty != s.keyFile.isEmpty { throw tlsNode.error(.invalidValue, "tls needs both cert_file and key_file") }
            try tls.rejectUnknownKeys()
        }
        if let tokensNode = map.optional("tokens") {
            var names: Set<String> = []
            for item in try tokensNode.sequence() {
                let t = try item.mapping()
                let nameNode = try t.required("name")
                let name = try nameNode.string()
                guard !name.isEmpty, names.insert(name).inserted else { throw nameNode.error(.duplicate, "token name \"\(name)\" is empty or already used") }
                let roleNode = try t.required("role")
                guard let role = HTTPSettings.Token.Role(rawValue: try roleNode.string()) else {
                    throw roleNode.error(.invalidValue, "role must be viewer, operator or admin, found \"\(try roleNode.string())\"")
                }
                let hashNode = try t.required("hash")
                let hash = try hashNode.string()
                guard Self.isTokenHash(hash) else {
                    throw hashNode.error(.invalidValue, "hash must be sha256:<salt hex>:<64 hex digits> as `hpmanagerctl hash-token` prints it (never the token itself)")
                }
                s.tokens.append(.init(name: name, role: role, hash: hash))
                try t.rejectUnknownKeys()
            }
        }
        s.maxConnections = try ranged(map, "max_connections", s.maxConnections, 1...10_000)
        s.maxBodyBytes = try ranged(map, "max_body_bytes", s.maxBodyBytes, 1024...1_048_576)
        s.idleTimeout = try map.seconds("idle_timeout", default: s.idleTimeout, within: ConfigLimits.idleTimeout)
        try map.rejectUnknownKeys()
        return s
    }

    /// `host:port` or `[v6]:port`, port 1-65535.
    static func hostPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        return (host, port)
    }

    static func isTokenHash(_ text: String) -> Bool {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        let hex = Set("0123456789abcdef")
        return parts.count == 3 && parts[0] == "sha256" && parts[1].count >= 16 && parts[2].count == 64
            && parts[1].allSatisfy(hex.contains) && parts[2].allSatisfy(hex.contains)
    }

    private func site(_ node: YAMLNode) throws -> SiteSettings {
        let map = try node.mapping()
        let idNode = try map.required("id")
        let id = try idNode.string()
        guard SiteSettings.isValidID(id) else {
            throw idNode.error(.invalidValue, "id must be 1-64 letters, digits, '_', '-' or '.' (it names MQTT topics too), found \"\(id)\"")
        }
        let name = try map.string("name", default: "")
        if !name.isEmpty, !SiteSettings.isValidLabelValue(name) {
            throw try map.required("name").error(.invalidValue, "name must be at most 256 bytes without control characters")
        }
        var labels: [SeriesLabel] = []
        if let labelsNode = map.optional("labels") {
            let labelMap = try labelsNode.mapping()
            for key in labelMap.keys {
                let valueNode = try labelMap.required(key)
                guard SiteSettings.isValidLabelName(key) else {
                    throw valueNode.error(.invalidValue, "label name \"\(key)\" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)")
                }
                guard !SiteSettings.reservedLabels.contains(key) else {
                    throw valueNode.error(.invalidValue, "label name \"\(key)\" clashes with a label hpmanager sets itself (\(SiteSettings.reservedLabels.sorted().joined(separator: ", ")))")
                }
                let value = try valueNode.string()
                guard SiteSettings.isValidLabelValue(value) else {
                    throw valueNode.error(.invalidValue, "value of label \"\(key)\" must be 1-256 bytes without control characters, found \"\(value)\"")
                }
                labels.append(SeriesLabel(name: key, value: value))
            }
            try labelMap.rejectUnknownKeys()
        }
        try map.rejectUnknownKeys()
        return SiteSettings(id: id, name: name, labels: labels)
    }

    private func writes(_ node: YAMLNode) throws -> WriteSettings {
        let map = try node.mapping()
        var w = WriteSettings()
        w.eepromMinInterval = try map.seconds("eeprom_min_interval", default: w.eepromMinInterval, within: ConfigLimits.eepromMinInterval)
        w.eepromDailyCap = try ranged(map, "eeprom_daily_cap", w.eepromDailyCap, ConfigLimits.eepromDailyCap)
        try map.rejectUnknownKeys()
        return w
    }

    private func supervisor(_ node: YAMLNode) throws -> SupervisorSettings {
        let map = try node.mapping()
        var s = SupervisorSettings()
        s.maxRestarts = try ranged(map, "max_restarts", s.maxRestarts, 0...10_000)
        s.restartWindow = try map.seconds("restart_window", default: s.restartWindow, within: ConfigLimits.restartWindow)
        s.failedCooldown = try map.seconds("failed_cooldown", default: s.failedCooldown, within: ConfigLimits.failedCooldown)
        s.restartBackoff = try map.seconds("restart_backoff", default: s.restartBackoff, within: ConfigLimits.restartBackoff)
        s.restartBackoffMax = try map.seconds("restart_backoff_max", default: s.restartBackoffMax, within: ConfigLimits.restartBackoff)
        try map.rejectUnknownKeys()
        return s
    }

    func alerts(_ node: YAMLNode) throws -> [AlertRule] {
        var rules: [AlertRule] = []
        var seen: Set<String> = []
        for item in try node.sequence() {
            let map = try item.mapping()
            let nameNode = try map.required("name")
            let name = try nameNode.string()
            guard !name.isEmpty, seen.insert(name).inserted else { throw nameNode.error(.duplicate, "alert name \"\(name)\" is empty or already used") }
            let register = try map.optional("register")?.string()
            let above = try map.optional("above")?.double()
            let below = try map.optional("below")?.double()
            let offlineFor = try map.optional("offline_for")?.seconds(within: ConfigLimits.alertDuration)
            let errorRate = try map.optional("error_rate_above")?.double()
            let window = try map.seconds("window", default: 600, within: ConfigLimits.alertWindow)
            let kinds = [above != nil || below != nil, offlineFor != nil, errorRate != nil].filter { $0 }.count
            guard kinds == 1, !(above != nil && below != nil) else {
                throw item.error(.invalidValue, "an alert needs exactly one of: register with above or below, offline_for, error_rate_above")
            }
            let condition: AlertRule.Condition
            var duration = try map.seconds("for", default: 0, within: ConfigLimits.alertDuration)
            if let threshold = above ?? below {
                guard let register, !register.isEmpty else { throw item.error(.missingKey, "a threshold alert needs register") }
                condition = above != nil ? .above(register: register, threshold: threshold) : .below(register: register, threshold: threshold)
            } else if let offlineFor {
                condition = .offline
                duration = offlineFor
            } else {
                let rate = errorRate ?? 0
                guard (0..<1).contains(rate) else { throw item.error(.invalidValue, "error_rate_above must be within 0..<1, found \(rate)") }
                condition = .errorRate(threshold: rate, window: window)
            }
            let severity = try map.string("severity", default: "warning").lowercased()
            guard ["info", "warning", "critical"].contains(severity) else {
                throw item.error(.invalidValue, "severity must be info, warning or critical, found \"\(severity)\"")
            }
            let heatpumps = try map.optional("heatpumps")?.sequence().map { try $0.string() } ?? []
            rules.append(AlertRule(name: name, condition: condition, duration: duration,
                                   hysteresis: try map.double("hysteresis", default: 0, within: ConfigLimits.hysteresis), severity: severity, heatpumps: heatpumps))
            try map.rejectUnknownKeys()
        }
        return rules
    }

    private func ranged(_ map: YAMLMapping, _ key: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
        guard let node = map.optional(key) else { return fallback }
        let value = try node.int()
        guard range.contains(value) else {
            throw node.error(.invalidValue, "must be within \(range.lowerBound)-\(range.upperBound), found \(value)")
        }
        return value
    }
}
