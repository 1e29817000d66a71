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

    public init(configuration: String) throws {
        directory = try TemporaryDirectory(prefix: "hpm-prometheus")
        port = try freeLoopbackPort()
        try directory.write("prometheus.yml", configuration)
        process = try ManagedProcess(executable: "/usr/bin/prometheus", arguments: [
            "--config.file=\(directory.file("prometheus.yml"))", "--storage.tsdb.path=\(directory.file("data"))",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ])
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

    /// `data.groups` of /api/v1/rules.
    public func ruleGroups() throws -> [[String: Any]] {
        let response = try CurlHTTPClient(options: .init(timeout: 5)).get(url: "\(url)/api/v1/rules")
        let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        return (json?["data"] as? [String: Any])?["groups"] as? [[String: Any]] ?? []
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
