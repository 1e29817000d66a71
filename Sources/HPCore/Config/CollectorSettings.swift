import Foundation

/// `collector:` — polling behaviour shared by all devices (HPManager keys plus ours).
public struct CollectorSettings: Sendable, Hashable {
    /// Default seconds between polls of a device.
    public var pollInterval: Double = 30
    /// Influx batch size and interval (HPManager keys; used by the Influx sink).
    public var batchSize: Int = 100
    public var batchInterval: Double = 5
    /// Largest run of unused registers bridged to merge two reads into one request.
    public var maxGap: Int = 16
    /// Upper bound of registers per read request (Modbus allows 125).
    public var maxRegistersPerRequest: Int = 125
    /// Upper bound of bits per coil/discrete read request (Modbus allows 2000).
    public var maxBitsPerRequest: Int = 2000
    /// Event-loop threads that run every Modbus TCP link (waits are events, not threads).
    public var ioThreads: Int = CollectorSettings.defaultEventLoops
    /// Fleet-wide reconnect pacing: connects per second and the burst allowed at once.
    public var reconnectRate: Double = 100
    public var reconnectBurst: Int = 100

    /// One event loop per core, at most 4 (a loop handles thousands of links).
    public static var defaultEventLoops: Int { min(max(ProcessInfo.processInfo.activeProcessorCount, 1), 4) }
    /// Reconnect backoff: first delay and cap, seconds.
    public var backoffInitial: Double = 1
    public var backoffMax: Double = 60
    /// How long a register that answered Illegal Data Address stays out of polls, seconds.
    public var quarantineRetry: Double = 600
    /// Longest graceful shutdown (SIGTERM/SIGINT), seconds; below the unit's TimeoutStopSec (15 s) minus the 5 s cancellation grace.
    public var shutdownTimeout: Double = 10
    /// Seconds cancelled services get after `shutdownTimeout` before the daemon gives up on them.
    public static let cancellationGrace: Double = 5

    public init() {}
}

/// `influxdb:` — kept with HPManager's meaning; used by the Influx sink.
public struct InfluxSettings: Sendable, Hashable {
    public var enabled: Bool = false
    public var url: String = ""
    public var org: String = ""
    public var bucket: String = ""
    public var token: String = ""
    public var tokenFile: String = ""
    public var timeout: Double = 10
    public var retryInterval: Double = 30
    public var version: Int = 2
    public var database: String = ""
    public var retentionPolicy: String = ""
    public var username: String = ""
    public var password: String = ""
    public var caFile: String = ""
    public var insecureSkipVerify: Bool = false
    public var gzip: Bool = false
    public var spoolMaxMB: Int = 256
    /// Spool database; default `influx-spool.db` beside `sqlite.path`.
    public var spoolPath: String = ""
    /// Timestamp precision of written points: `ns` or `s`.
    public var precision: String = "ns"
    /// How numeric registers are typed in InfluxDB (a function of the register, never of the value).
    public var fieldTypes: InfluxFieldTypes = .float
    /// Cap of every wait between write attempts, including a server's `Retry-After`, seconds.
    public var retryIntervalMax: Double = 300
    /// Dead letters (lines InfluxDB refused) older than this are pruned, seconds.
    public var deadLetterRetention: Double = 7 * 86400
    /// At most this many dead letters are kept (the oldest go first).
    public var deadLetterMax: Int = 10_000

    public init() {}
}

/// `influxdb.field_types`: `float` writes every numeric register as a float field (what HPManager
/// writes, so an existing HPManager bucket never sees a type conflict); `native` keeps integer
/// fields for integer registers without scale or offset.
public enum InfluxFieldTypes: String, Sendable, Hashable, CaseIterable {
    case float
    case native
}

/// `logging:` — level, format and optional file.
public struct LoggingSettings: Sendable, Hashable {
    public enum Format: String, Sendable { case json, text }
    /// Normalised swift-log level name: trace, debug, info, notice, warning, error, critical.
    public var level: String = "info"
    public var format: Format = .text
    public var file: String = ""

    public init() {}
}

/// `metrics_file:` — the Prometheus textfile.
public struct MetricsFileSettings: Sendable, Hashable {
    public var enabled: Bool = true
    public var path: String = "/var/lib/prometheus/node-exporter/hpmanager.prom"
    /// Seconds between rewrites; nil means "the shortest device poll interval, at most 10 s".
    public var interval: Double?

    public init() {}
}

/// `sqlite:` — the embedded store.
public struct SQLiteSettings: Sendable, Hashable {
    public var path: String = "/var/lib/hpmanager/hpmanager.db"
    public var readingsRetention: Double = 3 * 86400
    /// Seconds of polling between saves of each device's derived-metric state (also saved when a device stops).
    public var derivedStateInterval: Double = 60

    public init() {}
}

/// `control_socket:` — the Unix control socket.
public struct ControlSocketSettings: Sendable, Hashable {
    public var path: String = "/run/hpmanager/hpmanager.sock"
    public var mode: Int = 0o660
    public var group: String = ""
    /// Seconds a client may stay silent before it is disconnected.
    public var idleTimeout: Double = 30
    /// Concurrent clients; more are answered "busy" and closed.
    public var maxClients: Int = 128
    /// Longest request line, bytes.
    public var maxRequestBytes: Int = 65536

    public init() {}
}

/// `supervisor:` — restart intensity of device children.
public struct SupervisorSettings: Sendable, Hashable {
    /// More than this many restarts of one device within `restartWindow` marks it failed.
    public var maxRestarts: Int = 5
    public var restartWindow: Double = 60
    /// How long a failed device rests before it is tried again, seconds.
    public var failedCooldown: Double = 600
    /// First restart delay (doubles per recent restart, capped by `restartBackoffMax`), seconds.
    public var restartBackoff: Double = 0.5
    public var restartBackoffMax: Double = 30

    public init() {}
}
