/// `http:` — the daemon's HTTP API: on by default at 127.0.0.1:8080 (loopback only), off with `enabled: false`.
public struct HTTPSettings: Sendable, Hashable {
    /// One API token: its name (for the audit and logs), its role and its salted hash (never the token).
    public struct Token: Sendable, Hashable {
        /// `viewer` reads, `operator` also writes and changes devices, `admin` also changes daemon settings.
        public enum Role: String, Sendable, Hashable { case viewer, `operator`, admin }
        public var name: String
        public var role: Role
        /// `sha256:<salt hex>:<digest hex>` as `hpmanagerctl hash-token` prints it.
        public var hash: String

        public init(name: String, role: Role, hash: String) {
            self.name = name
            self.role = role
            self.hash = hash
        }
    }

    public var enabled = true
    public var host = "127.0.0.1"
    public var port = 8080
    /// PEM files; both set: HTTPS.
    public var certFile = ""
    public var keyFile = ""
    /// No tokens: only loopback clients are served. Otherwise every request needs a bearer token.
    public var tokens: [Token] = []
    /// Open connections at once; more wait in the listen backlog.
    public var maxConnections = 64
    /// Largest request body, bytes.
    public var maxBodyBytes = 1_048_576
    /// Seconds a connection may stay idle (or a slow client take to send a request) before it is closed.
    public var idleTimeout: Double = 30

    public var tls: Bool { !certFile.isEmpty }

    public init() {}
}
