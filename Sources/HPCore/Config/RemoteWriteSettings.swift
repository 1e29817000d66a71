/// One `remote_write:` entry — a Prometheus remote-write receiver (Prometheus, Mimir, Thanos,
/// VictoriaMetrics). Key names follow Prometheus' own `remote_write` / `queue_config`.
public struct RemoteWriteSettings: Sendable, Hashable {
    public struct BasicAuth: Sendable, Hashable {
        public var username: String
        /// File holding the password (never the password itself in collector.yml).
        public var passwordFile: String

        public init(username: String, passwordFile: String) {
            self.username = username
            self.passwordFile = passwordFile
        }
    }

    /// `queue:` — the in-memory inbox and batching.
    public struct Queue: Sendable, Hashable {
        /// Samples the inbox holds; more are dropped and counted (the spool takes batches, not this).
        public var capacity: Int = 10_000
        /// Samples per request.
        public var maxSamplesPerSend: Int = 2_000
        /// Requests in flight at once (Prometheus' `max_shards`); each series always goes through the
        /// same shard, so its samples stay in order. A round uses one shard per full batch, up to this.
        public var maxShards: Int = 4
        /// Longest a sample waits in the inbox before it is sent, seconds.
        public var batchSendDeadline: Double = 5
        /// First and longest wait between failed attempts (a server's Retry-After counts, capped by max), seconds.
        public var minBackoff: Double = 1
        public var maxBackoff: Double = 60

        public init() {}
    }

    /// Names the sink in metrics, logs and its spool file; default `rw<n>` (1-based position).
    public var name: String = ""
    public var url: String = ""
    /// Extra request headers (`X-Scope-OrgID` for Mimir tenants, …).
    public var headers: [String: String] = [:]
    public var basicAuth: BasicAuth?
    public var bearerTokenFile: String = ""
    public var timeout: Double = 30
    public var caFile: String = ""
    public var insecureSkipVerify: Bool = false
    public var queue = Queue()
    /// Spool database; default `remote-write-<name>-spool.db` beside `sqlite.path`.
    public var spoolPath: String = ""
    public var spoolMaxMB: Int = 256
    public var deadLetterRetention: Double = 7 * 86400
    public var deadLetterMax: Int = 10_000

    public init() {}
}
