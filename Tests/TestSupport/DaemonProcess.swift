import Foundation

/// A running `hpmanagerd` on a temporary config directory, with its metrics file.
public final class DaemonProcess: @unchecked Sendable {
    // `@unchecked Sendable`: stored properties are immutable after init.
    public let process: ManagedProcess
    public let configDir: String
    public let metricsPath: String

    public init(configDir: String, metricsPath: String, logLevel: String = "debug", environment: [String: String] = [:],
                namespace: String? = nil) throws {
        self.configDir = configDir
        self.metricsPath = metricsPath
        process = try ManagedProcess(executable: try Products.path("hpmanagerd"),
                                     arguments: ["--config-dir", configDir, "--log-level", logLevel], environment: environment,
                                     namespace: namespace)
    }

    /// The parsed metrics file, or nil while it does not exist yet.
    public func metrics() -> PromMetrics? {
        stampedMetrics()?.metrics
    }

    /// The parsed metrics file and when the daemon wrote it: `written` is the file's modification time,
    /// or nil when the file was replaced while it was read (the values may then be newer than it).
    public func stampedMetrics() -> (metrics: PromMetrics, written: Date?)? {
        func modified() -> Date? { (try? FileManager.default.attributesOfItem(atPath: metricsPath))?[.modificationDate] as? Date }
        let before = modified()
        guard let text = try? String(contentsOfFile: metricsPath, encoding: .utf8) else { return nil }
        let written = before != nil && before == modified() ? before : nil
        return (PromMetrics(text), written)
    }

    public var log: String { process.stderr.transcript.joined(separator: "\n") }
}
