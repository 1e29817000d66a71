/// `settings` (control socket, `hpmanagerctl settings`), `GET /api/settings` and `PUT /api/settings`.
///
/// Keys are dotted (`collector.poll_interval`, `influxdb.url`, `alerts`). A change is either `set`
/// (dotted keys; a null value returns the key to collector.yml's value), `reset` (keys returned to
/// collector.yml) or `settings` (the nested shape `GET` answers with: values that differ from the
/// running ones are changes, equal ones are ignored, so a GET body PUTs back as no change).
/// All or nothing: one bad or not-live key and nothing changes.
public struct SettingsRequest: Sendable, Codable, Hashable {
    /// `get` (the default) or `set`.
    public var action: String?
    public var set: [String: JSONValue]?
    public var reset: [String]?
    public var settings: JSONValue?
    /// Who asks, for the audit (HTTP fills in the token's name and role).
    public var client: String?

    public init(action: String? = nil, set: [String: JSONValue]? = nil, reset: [String]? = nil, settings: JSONValue? = nil,
                client: String? = nil) {
        self.action = action
        self.set = set
        self.reset = reset
        self.settings = settings
        self.client = client
    }
}

/// The running settings, secrets redacted: the InfluxDB token only as `token_set`, credentials in
/// its URL replaced; API tokens by name and role, never their hashes.
public struct SettingsView: Sendable, Codable, Hashable {
    public struct Collector: Sendable, Codable, Hashable {
        public var pollInterval: Double
        public var batchSize: Int
        public var batchInterval: Double
        enum CodingKeys: String, CodingKey {
            case pollInterval = "poll_interval", batchSize = "batch_size", batchInterval = "batch_interval"
        }

        public init(pollInterval: Double, batchSize: Int, batchInterval: Double) {
            self.pollInterval = pollInterval
            self.batchSize = batchSize
            self.batchInterval = batchInterval
        }
    }

    public struct Influx: Sendable, Codable, Hashable {
        public var enabled: Bool
        public var url: String
        public var org: String
        public var bucket: String
        public var database: String
        public var version: Int
        /// Never the token: `true` when one is configured (in collector.yml or through `token_file`).
        public var tokenSet: Bool
        /// The file the token is read from (a path, not a secret); empty when none.
        public var tokenFile: String
        enum CodingKeys: String, CodingKey {
            case enabled, url, org, bucket, database, version
            case tokenSet = "token_set", tokenFile = "token_file"
        }

        public init(enabled: Bool, url: String, org: String, bucket: String, database: String, version: Int, tokenSet: Bool, tokenFile: String) {
            self.enabled = enabled
            self.url = url
            self.org = org
            self.bucket = bucket
            self.database = database
            self.version = version
            self.tokenSet = tokenSet
            self.tokenFile = tokenFile
        }
    }

    public struct HTTP: Sendable, Codable, Hashable {
        public var listen: String
        public var tls: Bool
        /// Token names and roles; never hashes.
        public var tokens: [String: String]

        public init(listen: String, tls: Bool, tokens: [String: String]) {
            self.listen = listen
            self.tls = tls
            self.tokens = tokens
        }
    }

    /// A key whose running value differs from collector.yml because it was changed live.
    public struct Override: Sendable, Codable, Hashable {
        public var value: JSONValue
        /// collector.yml's value (redacted like `value`).
        public var fileValue: JSONValue
        public var changedBy: String
        public var changedAt: Double
        enum CodingKeys: String, CodingKey {
            case value, fileValue = "file_value", changedBy = "changed_by", changedAt = "changed_at"
        }

        public init(value: JSONValue, fileValue: JSONValue, changedBy: String, changedAt: Double) {
            self.value = value
            self.fileValue = fileValue
            self.changedBy = changedBy
            self.changedAt = changedAt
        }
    }

    public var collector: Collector
    public var influxdb: Influx
    /// Alert rules as under `alerts:` in collector.yml (name, register, above/below, offline_for,
    /// error_rate_above, window, for, hysteresis, severity, heatpumps).
    public var alerts: [JSONValue]
    public var http: HTTP
    /// Every key that can change live → where its running value comes from: `collector.yml` or `runtime`.
    public var sources: [String: String]
    /// The keys that can change live (others answer 409 not_live).
    public var live: [String]
    public var overrides: [String: Override]
    /// In the answer to a change: the keys it changed (empty: nothing differed).
    public var changed: [String]?

    public init(collector: Collector, influxdb: Influx, alerts: [JSONValue], http: HTTP, sources: [String: String], live: [String],
                overrides: [String: Override], changed: [String]? = nil) {
        self.collector = collector
        self.influxdb = influxdb
        self.alerts = alerts
        self.http = http
        self.sources = sources
        self.live = live
        self.overrides = overrides
        self.changed = changed
    }
}
