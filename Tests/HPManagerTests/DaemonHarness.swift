import Foundation
import Testing
import TestSupport

/// Builds a config directory for hpmanagerd pointing at hpsim ports and runs the daemon.
struct DaemonHarness {
    struct Device {
        var id: String
        var port: Int
        var unit = 1
        var model = "nibe_s1155"
        var name: String?
        var location = "Lab"
        var enabled = true
        var timeout = 0.5
        var retries = 0
        /// The device's `config:` (template instances) as YAML flow text, e.g. `{circuits: [A, C]}`.
        var config: String?
    }

    let dir: TemporaryDirectory
    var files: IsolatedDaemonFiles { IsolatedDaemonFiles(dir) }
    var metricsPath: String { files.metricsPath }
    var socketPath: String { files.socketPath }

    /// - Parameters:
    ///   - collectorKeys: extra lines under `collector:` (indented by two spaces).
    ///   - extraSections: further top-level sections of collector.yml.
    ///   - sqliteKeys: extra lines under `sqlite:` (indented by two spaces).
    ///   - socketIdleTimeout: the control socket's `idle_timeout`, seconds.
    init(devices: [Device], interval: Double = 0.5, collectorKeys: String = "", extraSections: String = "", sqliteKeys: String = "",
         socketIdleTimeout: Double = 1, reuse: TemporaryDirectory? = nil) throws {
        dir = try reuse ?? TemporaryDirectory(prefix: "hpm-daemon")
        try writeDevices(devices, interval: interval)
        try dir.write("collector.yml", IsolatedDaemonFiles(dir).collectorYAML(metricsInterval: 0.2, socketIdleTimeout: socketIdleTimeout, extra: """
        collector:
          poll_interval: \(interval)
          backoff_initial: 0.2
          backoff_max: 1
        \(collectorKeys)
        logging:
          level: DEBUG
          format: text
        supervisor:
          max_restarts: 3
          restart_window: 10
        \(extraSections)
        """, sqliteKeys: sqliteKeys))
    }

    func writeDevices(_ devices: [Device], interval: Double = 0.5) throws {
        var text = "heatpumps:\n"
        for d in devices {
            text += """
              - id: \(d.id)
                name: \(d.name ?? d.id)
                location: \(d.location)
                model: \(d.model)
                enabled: \(d.enabled)
                poll_interval: \(interval)
                modbus: {type: tcp, host: 127.0.0.1, port: \(d.port), unit_id: \(d.unit), timeout: \(d.timeout), retries: \(d.retries), retry_delay: 0.1}

            """
            if let config = d.config { text += "    config: \(config)\n" }
        }
        try dir.write("heatpumps.yml", text)
    }

    func start(environment: [String: String] = [:], namespace: String? = nil) throws -> DaemonProcess {
        try DaemonProcess(configDir: dir.path, metricsPath: metricsPath, environment: environment, namespace: namespace)
    }

    /// Waits until the metrics file satisfies `condition`.
    static func waitFor(_ daemon: DaemonProcess, _ what: String, timeout: Double = 10,
                        _ condition: @escaping (PromMetrics) -> Bool) async throws -> PromMetrics {
        do {
            return try await eventually(what, timeout: timeout, interval: 0.05) {
                guard let m = daemon.metrics(), condition(m) else { return nil }
                return m
            }
        } catch {
            Issue.record("daemon log:\n\(daemon.log.suffix(4000))")
            throw error
        }
    }

    static func up(_ m: PromMetrics, _ id: String) -> Double? { m.value("heatpump_up", ["heatpump_id": id]) }
    static func lastSuccess(_ m: PromMetrics, _ id: String) -> Double? {
        m.value("heatpump_last_success_timestamp_seconds", ["heatpump_id": id])
    }
}

enum Promtool {
    /// Runs `promtool check metrics` on `text`; returns (exit status, output).
    static func check(_ text: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/promtool")
        process.arguments = ["check", "metrics"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
