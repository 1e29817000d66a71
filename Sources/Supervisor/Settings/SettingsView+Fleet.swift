import ControlProtocol
import Foundation
import HPCore

extension SettingsView {
    /// The running settings of `view`, secrets redacted.
    init(_ view: FleetView) {
        let c = view.configuration.collector
        let i = c.influxdb
        let host = c.http.host.contains(":") ? "[\(c.http.host)]" : c.http.host
        var sources: [String: String] = [:]
        for key in view.liveKeys { sources[key] = view.liveSettings.overrides[key] == nil ? "collector.yml" : "runtime" }
        var redacted: [String: Override] = [:]
        for (key, o) in view.liveSettings.overrides {
            redacted[key] = Override(value: SettingKeys.redacted(key, o.value), fileValue: SettingKeys.redacted(key, o.fileValue),
                                     changedBy: o.changedBy, changedAt: o.changedAt)
        }
        self.init(
            collector: Collector(pollInterval: c.collector.pollInterval, batchSize: c.collector.batchSize, batchInterval: c.collector.batchInterval),
            influxdb: Influx(enabled: i.enabled, url: URLRedaction.redact(i.url), org: i.org, bucket: i.bucket, database: i.database, version: i.version,
                             tokenSet: !i.token.isEmpty || !i.tokenFile.isEmpty, tokenFile: i.tokenFile),
            alerts: c.alerts.map(\.json),
            http: HTTP(listen: "\(host):\(c.http.port)", tls: c.http.tls,
                       tokens: Dictionary(c.http.tokens.map { ($0.name, $0.role.rawValue) }, uniquingKeysWith: { first, _ in first })),
            sources: sources, live: view.liveKeys, overrides: redacted)
    }

    /// The changes a body of this shape asks for: every leaf (`collector.poll_interval`,
    /// `influxdb.url`, `alerts`, …) that differs from the running view; a null leaf returns a key to
    /// collector.yml. Read-only parts (`sources`, `live`, `overrides`, `changed`) are ignored.
    static func changes(in body: JSONValue, from current: SettingsView) throws -> [String: SettingChange] {
        guard case .object(let submitted) = body else { throw CommandError(.badRequest, "settings: the body must be a JSON object", field: "settings") }
        let running = Self.leaves(try JSONValue.encoded(current))
        let ignored: Set<String> = ["sources", "live", "overrides", "changed"]
        var changes: [String: SettingChange] = [:]
        for (section, value) in submitted where !ignored.contains(section) {
            let given: [String: JSONValue]
            if section == "alerts" {
                given = ["alerts": value]
            } else if case .object(let fields) = value {
                given = Dictionary(uniqueKeysWithValues: fields.map { ("\(section).\($0.key)", $0.value) })
            } else {
                guard running.keys.contains(where: { $0.hasPrefix(section + ".") }) else {
                    throw CommandError(.badRequest, "settings: unknown section \"\(section)\"", field: section)
                }
                throw CommandError(.badRequest, "settings: \"\(section)\" must be an object", field: section)
            }
            for (key, value) in given where running[key] != value {
                changes[key] = value == .null ? .reset : .set(value)
            }
        }
        return changes
    }

    /// `collector.poll_interval` → value, one level down (`alerts` whole).
    private static func leaves(_ value: JSONValue) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for (section, inner) in value.object ?? [:] {
            if section == "alerts" {
                result["alerts"] = inner
            } else if case .object(let fields) = inner {
                for (key, leaf) in fields { result["\(section).\(key)"] = leaf }
            }
        }
        return result
    }
}

extension JSONValue {
    /// Any Encodable as a JSON value.
    static func encoded<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }
}
