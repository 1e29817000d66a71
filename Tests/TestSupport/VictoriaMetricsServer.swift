import CurlKit
import Foundation

/// A private Debian `victoria-metrics` (single node) on a free loopback port with its own data
/// directory; stop and start again keep the data and the port (for outage tests).
///
/// It takes Prometheus remote write at `/api/v1/write` and InfluxDB line protocol at `/write` and
/// `/api/v2/write`; `export` reads back raw samples (no deduplication, no latency offset).
public final class VictoriaMetricsServer: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is replaced only by start/stop, which tests call sequentially.
    public let port: Int
    public let directory: TemporaryDirectory
    private var process: ManagedProcess?

    public var url: String { "http://127.0.0.1:\(port)" }
    public var remoteWriteURL: String { "\(url)/api/v1/write" }

    public init() throws {
        directory = try TemporaryDirectory(prefix: "hpm-vm")
        port = try freeLoopbackPort()
        try start()
    }

    deinit { stop() }

    public func start() throws {
        let process = try ManagedProcess(executable: "/usr/bin/victoria-metrics", arguments: [
            "-storageDataPath=\(directory.file("data"))", "-httpListenAddr=127.0.0.1:\(port)", "-retentionPeriod=100y",
            "-loggerLevel=ERROR", "-search.disableCache", "-memory.allowedPercent=10",
        ])
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let r = try? CurlHTTPClient(options: .init(timeout: 1)).get(url: "\(url)/health"), r.status == 200 { return }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        throw DeadlineExceeded(what: "victoria-metrics /health (\(process.stderr.transcript.suffix(5).joined(separator: " | ")))", seconds: 20)
    }

    public func stop() {
        process?.stop()
        process = nil
    }

    /// Raw samples of every series `selector` matches (`/api/v1/export`, after a flush so the
    /// newest writes are searchable), keyed by the series' labels (`__name__` included).
    public func export(_ selector: String) throws -> [[String: String]: [(timestampMs: Int64, value: Double)]] {
        let client = try CurlHTTPClient(options: .init(timeout: 10, maxBodyBytes: 64 << 20))
        _ = try client.get(url: "\(url)/internal/force_flush")
        let query = "match[]=" + (selector.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? selector) + "&start=0"
        let response = try client.get(url: "\(url)/api/v1/export?\(query)")
        var out: [[String: String]: [(timestampMs: Int64, value: Double)]] = [:]
        for line in response.body.split(separator: "\n") {
            guard let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            let metric = json["metric"] as? [String: String] ?? [:]
            let values = (json["values"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue }
            let times = (json["timestamps"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.int64Value }
            out[metric, default: []] += zip(times, values).map { (timestampMs: $0, value: $1) }
        }
        return out
    }
}
