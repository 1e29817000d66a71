import CurlKit
import Foundation

/// A private Debian `prometheus` on a free loopback port with its own TSDB directory, started on
/// the configuration text a test gives it (rule file paths absolute).
public final class PrometheusServer: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init.
    public let port: Int
    public let directory: TemporaryDirectory
    private let process: ManagedProcess

    public var url: String { "http://127.0.0.1:\(port)" }

    public struct QueryError: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Parameter arguments: further flags, e.g. `--web.enable-remote-write-receiver`.
    public init(configuration: String, arguments: [String] = []) throws {
        directory = try TemporaryDirectory(prefix: "hpm-prometheus")
        port = try freeLoopbackPort()
        try directory.write("prometheus.yml", configuration)
        process = try ManagedProcess(executable: "/usr/bin/prometheus", arguments: [
            "--config.file=\(directory.file("prometheus.yml"))", "--storage.tsdb.path=\(directory.file("data"))",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ] + arguments)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let r = try? CurlHTTPClient(options: .init(timeout: 1)).get(url: "\(url)/-/ready"), r.status == 200 { return }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        throw DeadlineExceeded(what: "prometheus /-/ready (\(process.stderr.transcript.suffix(5).joined(separator: " | ")))", seconds: 20)
    }

    deinit { process.stop() }

    /// An instant query; returns `data.result` (vector or scalar), throws with Prometheus's error text.
    public func query(_ expr: String) throws -> [Any] {
        let body = "query=" + (expr.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? expr)
        let data = try api("query", body: body)
        guard let result = data["result"] else { return [] }
        if data["resultType"] as? String == "scalar" { return [result] }
        return result as? [Any] ?? []
    }

    /// The raw samples (Unix seconds, value) of every series `selector` matches over the last `range`
    /// (a range-vector instant query returns them unaggregated), keyed by the series' labels.
    public func rawSamples(_ selector: String, range: String = "1h") throws -> [[String: String]: [(Double, Double)]] {
        var out: [[String: String]: [(Double, Double)]] = [:]
        for case let series as [String: Any] in try query("\(selector)[\(range)]") {
            let metric = series["metric"] as? [String: String] ?? [:]
            let values = (series["values"] as? [[Any]] ?? []).compactMap { pair -> (Double, Double)? in
                guard pair.count == 2, let t = pair[0] as? Double, let v = (pair[1] as? String).flatMap(Double.init) else { return nil }
                return (t, v)
            }
            out[metric, default: []] += values
        }
        return out
    }

    /// `data.groups` of /api/v1/rules.
    public func ruleGroups() throws -> [[String: Any]] {
        try getData("rules")["groups"] as? [[String: Any]] ?? []
    }

    /// One line per active target of /api/v1/targets: job, health, last scrape duration and error.
    public func targetsSummary() -> String {
        guard let active = (try? getData("targets"))?["activeTargets"] as? [[String: Any]] else { return "targets: unavailable" }
        return active.map { t in
            let job = (t["labels"] as? [String: Any])?["job"] ?? "?"
            return "\(job): \(t["health"] ?? "?") after \(t["lastScrapeDuration"] ?? "?") s, error \"\(t["lastError"] ?? "")\""
        }.joined(separator: "; ")
    }

    /// `data` of a GET /api/v1/`endpoint` (empty when the answer has none).
    private func getData(_ endpoint: String) throws -> [String: Any] {
        let response = try CurlHTTPClient(options: .init(timeout: 5)).get(url: "\(url)/api/v1/\(endpoint)")
        let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        return json?["data"] as? [String: Any] ?? [:]
    }

    private func api(_ endpoint: String, body: String) throws -> [String: Any] {
        let response = try CurlHTTPClient(options: .init(timeout: 10, maxBodyBytes: 16 << 20)).post(url: "\(url)/api/v1/\(endpoint)", body: Array(body.utf8),
                                                                           headers: ["Content-Type: application/x-www-form-urlencoded"])
        guard let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any] else {
            throw QueryError(description: "HTTP \(response.status): \(response.body.prefix(200))")
        }
        guard json["status"] as? String == "success", let data = json["data"] as? [String: Any] else {
            throw QueryError(description: "\(json["errorType"] ?? "error"): \(json["error"] ?? response.body)")
        }
        return data
    }
}
