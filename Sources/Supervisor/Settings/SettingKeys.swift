import ControlProtocol
import Foundation
import HPCore

/// The settings that change live: how each is read from a configuration, shown (secrets
/// redacted) and applied. Every value is type- and range-checked before it is converted, and an
/// error names its key (`field`).
enum SettingKeys {
    static let pollInterval = "collector.poll_interval"
    static let batchSize = "collector.batch_size"
    static let batchInterval = "collector.batch_interval"
    static let influxURL = "influxdb.url"
    static let influxOrg = "influxdb.org"
    static let influxBucket = "influxdb.bucket"
    static let influxDatabase = "influxdb.database"
    static let influxTokenFile = "influxdb.token_file"
    static let alerts = "alerts"

    /// Keys a change may carry, in display order.
    static let live = [pollInterval, batchSize, batchInterval, influxURL, influxOrg, influxBucket, influxDatabase, influxTokenFile, alerts]
    static let influxKeys: Set<String> = [influxURL, influxOrg, influxBucket, influxDatabase, influxTokenFile]

    /// Why a shown key cannot change live (409 not_live names it with this reason).
    static func notLiveReason(_ key: String) -> String {
        switch key {
        case "influxdb.token", "influxdb.token_set":
            "the InfluxDB token is never sent over the API: write it to a file and set influxdb.token_file"
        case "influxdb.enabled": "turning the InfluxDB sink on or off needs a restart of hpmanagerd"
        case "influxdb.version": "the InfluxDB API version changes how points are encoded; edit collector.yml and restart hpmanagerd"
        default: "edit collector.yml and restart hpmanagerd"
        }
    }

    /// The running value of a live key, unredacted (what is stored and compared).
    static func value(_ key: String, _ c: CollectorConfig) -> JSONValue {
        switch key {
        case pollInterval: .number(c.collector.pollInterval)
        case batchSize: JSONValue(c.collector.batchSize)
        case batchInterval: .number(c.collector.batchInterval)
        case influxURL: .string(c.influxdb.url)
        case influxOrg: .string(c.influxdb.org)
        case influxBucket: .string(c.influxdb.bucket)
        case influxDatabase: .string(c.influxdb.database)
        case influxTokenFile: .string(c.influxdb.tokenFile)
        case alerts: .array(c.alerts.map(\.json))
        default: .null
        }
    }

    /// A value as the API, the logs and the audit show it: credentials in URLs replaced.
    static func redacted(_ key: String, _ value: JSONValue) -> JSONValue {
        if key == influxURL, case .string(let url) = value { return .string(URLRedaction.redact(url)) }
        return value
    }

    /// Applies `value` to `c`, or throws a `CommandError` naming `key` (nothing in `c` changed then).
    static func apply(_ key: String, _ value: JSONValue, to c: inout CollectorConfig, loader: ConfigLoader) throws {
        switch key {
        case pollInterval: c.collector.pollInterval = try seconds(value, key, within: ConfigLimits.pollInterval)
        case batchSize: c.collector.batchSize = try integer(value, key, within: ConfigLimits.batchSize)
        case batchInterval: c.collector.batchInterval = try seconds(value, key, within: ConfigLimits.batchInterval)
        case influxURL: c.influxdb.url = try url(value, key)
        case influxOrg: c.influxdb.org = try name(value, key)
        case influxBucket: c.influxdb.bucket = try name(value, key)
        case influxDatabase: c.influxdb.database = try name(value, key)
        case influxTokenFile: c.influxdb.tokenFile = try path(value, key)
        case alerts: c.alerts = try alertRules(value, loader: loader)
        default:
            throw CommandError(.badRequest, "\(key): unknown setting; settings that change live: \(live.joined(separator: ", "))", field: key)
        }
    }

    /// Checks that hold between keys (what collector.yml's parser checks for a whole section).
    static func checkTogether(_ c: CollectorConfig) throws {
        let influx = c.influxdb
        guard influx.enabled else { return }
        if influx.version == 1 && influx.database.isEmpty {
            throw CommandError(.badRequest, "\(influxDatabase): InfluxDB version 1 needs a database", field: influxDatabase)
        }
        if influx.version == 2 && influx.org.isEmpty { throw CommandError(.badRequest, "\(influxOrg): InfluxDB version 2 needs an org", field: influxOrg) }
        if influx.version == 2 && influx.bucket.isEmpty {
            throw CommandError(.badRequest, "\(influxBucket): InfluxDB version 2 needs a bucket", field: influxBucket)
        }
    }

    // MARK: Value checks

    private static func number(_ value: JSONValue, _ key: String, what: String) throws -> Double {
        guard case .number(let n) = value else { throw CommandError(.badRequest, "\(key): must be \(what), found \(describe(value))", field: key) }
        guard n.isFinite else { throw CommandError(.outOfRange, "\(key): must be a finite number", field: key) }
        return n
    }

    private static func seconds(_ value: JSONValue, _ key: String, within range: ClosedRange<Double>) throws -> Double {
        let n = try number(value, key, what: "a number of seconds")
        guard range.contains(n) else {
            throw CommandError(.outOfRange, "\(key): must be within \(range.lowerBound)-\(range.upperBound) s, found \(n)", field: key)
        }
        return n
    }

    private static func integer(_ value: JSONValue, _ key: String, within range: ClosedRange<Int>) throws -> Int {
        let n = try number(value, key, what: "a whole number")
        // Range first, on the Double: `Int(n)` of a huge value would trap.
        guard n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw CommandError(.outOfRange, "\(key): must be within \(range.lowerBound)-\(range.upperBound), found \(n)", field: key)
        }
        guard let whole = Int(exactly: n) else { throw CommandError(.badRequest, "\(key): must be a whole number, found \(n)", field: key) }
        return whole
    }

    private static func text(_ value: JSONValue, _ key: String, maxLength: Int) throws -> String {
        guard case .string(let s) = value else { throw CommandError(.badRequest, "\(key): must be a string, found \(describe(value))", field: key) }
        guard s.utf8.count <= maxLength else { throw CommandError(.outOfRange, "\(key): longer than \(maxLength) bytes", field: key) }
        guard !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CommandError(.badRequest, "\(key): must not contain control characters", field: key)
        }
        return s
    }

    private static func name(_ value: JSONValue, _ key: String) throws -> String {
        try text(value, key, maxLength: 256)
    }

    private static func url(_ value: JSONValue, _ key: String) throws -> String {
        let s = try text(value, key, maxLength: 2048)
        guard s.hasPrefix("http://") || s.hasPrefix("https://") else {
            throw CommandError(.badRequest, "\(key): must start with http:// or https://, found \"\(URLRedaction.redact(s))\"", field: key)
        }
        guard !s.contains(" "), let host = URLComponents(string: s)?.host, !host.isEmpty else {
            throw CommandError(.badRequest, "\(key): not a URL with a host: \"\(URLRedaction.redact(s))\"", field: key)
        }
        return s
    }

    /// A token file's path (checked against the allowed directories and read by `TokenFileCheck`).
    private static func path(_ value: JSONValue, _ key: String) throws -> String {
        let s = try text(value, key, maxLength: 4096)
        guard s.isEmpty || s.hasPrefix("/") else { throw CommandError(.badRequest, "\(key): must be an absolute path, found \"\(s)\"", field: key) }
        return s
    }

    private static func alertRules(_ value: JSONValue, loader: ConfigLoader) throws -> [AlertRule] {
        guard case .array = value else { throw CommandError(.badRequest, "\(alerts): must be a list of alert rules, found \(describe(value))", field: alerts) }
        let text = String(decoding: try JSONEncoding.data(value), as: UTF8.self)
        do {
            return try loader.parseAlertRules(text: text, source: alerts)
        } catch let error as ConfigError {
            throw CommandError(error.message.contains("within") ? .outOfRange : .badRequest,
                               "\(alerts)\(error.field.isEmpty ? "" : ".\(error.field)"): \(error.message)", field: alerts)
        } catch {
            throw CommandError(.badRequest, "\(alerts): \(error)", field: alerts)
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let n): "\(n)"
        case .string(let s): "\"\(s.prefix(64))\""
        case .array: "a list"
        case .object: "an object"
        }
    }
}
