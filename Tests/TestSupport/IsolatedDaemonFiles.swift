/// Paths and collector.yml that keep everything a test or benchmark daemon writes (metrics file,
/// SQLite store, control socket) inside one temporary directory.
public struct IsolatedDaemonFiles: Sendable {
    public let directory: String

    public init(_ directory: TemporaryDirectory) { self.directory = directory.path }

    public var metricsPath: String { directory + "/metrics/hpmanager.prom" }
    public var databasePath: String { directory + "/state/hpmanager.db" }
    public var socketPath: String { directory + "/run/hpm.sock" }

    /// collector.yml with the isolated paths; `extra` holds further top-level sections. The HTTP API
    /// (on by default at 127.0.0.1:8080) is turned off unless `extra` has an `http:` section, so
    /// daemons started in parallel never contend for one port.
    /// `sqliteKeys`: further lines under `sqlite:` (indented by two spaces).
    public func collectorYAML(metricsInterval: Double, socketIdleTimeout: Double = 30, extra: String = "", sqliteKeys: String = "") -> String {
        let declaresHTTP = extra.split(separator: "\n").contains { $0.hasPrefix("http:") }
        return """
        metrics_file:
          path: \(metricsPath)
          interval: \(metricsInterval)
        sqlite:
          path: \(databasePath)
        \(sqliteKeys)
        control_socket:
          path: \(socketPath)
          idle_timeout: \(socketIdleTimeout)
        \(declaresHTTP ? "" : "http:\n  enabled: false")
        \(extra)
        """
    }
}
