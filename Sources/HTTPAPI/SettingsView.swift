import HPCore

/// `GET /api/settings`: the running collector settings, secrets redacted (the InfluxDB token as
/// `token_set`, credentials inside its URL by `URLRedaction`). `PUT` takes the same
/// shape; nothing in it applies live yet, so any change is refused (409 not_live) with the keys named.
struct SettingsView: Codable, Sendable, Equatable {
    struct Collector: Codable, Sendable, Equatable {
        var pollInterval: Double
        var batchSize: Int
        var batchInterval: Double
        enum CodingKeys: String, CodingKey {
            case pollInterval = "poll_interval", batchSize = "batch_size", batchInterval = "batch_interval"
        }
    }

    struct Influx: Codable, Sendable, Equatable {
        var enabled: Bool
        var url: String
        var org: String
        var bucket: String
        /// Never the token: `true` when one is set.
        var tokenSet: Bool
        enum CodingKeys: String, CodingKey {
            case enabled, url, org, bucket
            case tokenSet = "token_set"
        }
    }

    struct Alert: Codable, Sendable, Equatable {
        var name: String
        var severity: String
        var heatpumps: [String]
    }

    struct HTTP: Codable, Sendable, Equatable {
        var listen: String
        var tls: Bool
        /// Token names and roles; never hashes.
        var tokens: [String: String]
    }

    var collector: Collector
    var influxdb: Influx
    var alerts: [Alert]
    var http: HTTP

    init(_ c: CollectorConfig) {
        collector = Collector(pollInterval: c.collector.pollInterval, batchSize: c.collector.batchSize, batchInterval: c.collector.batchInterval)
        influxdb = Influx(enabled: c.influxdb.enabled, url: URLRedaction.redact(c.influxdb.url), org: c.influxdb.org, bucket: c.influxdb.bucket,
                          tokenSet: !c.influxdb.token.isEmpty)
        alerts = c.alerts.map { Alert(name: $0.name, severity: $0.severity, heatpumps: $0.heatpumps) }
        let host = c.http.host.contains(":") ? "[\(c.http.host)]" : c.http.host
        http = HTTP(listen: "\(host):\(c.http.port)", tls: c.http.tls,
                    tokens: Dictionary(uniqueKeysWithValues: c.http.tokens.map { ($0.name, $0.role.rawValue) }))
    }

    /// The top-level keys whose values differ.
    func differences(to other: SettingsView) -> [String] {
        var keys: [String] = []
        if collector != other.collector { keys.append("collector") }
        if influxdb != other.influxdb { keys.append("influxdb") }
        if alerts != other.alerts { keys.append("alerts") }
        if http != other.http { keys.append("http") }
        return keys
    }
}
