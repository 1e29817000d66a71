import ControlProtocol
import HPCore
import Sinks

/// The settings changed live, over collector.yml (stored in the SQLite `settings` table, so they
/// survive restarts). Each override remembers collector.yml's value when it was made: when the file
/// says something else at a later start or reload, the file was edited since and the edit wins —
/// the later change wins, whichever way it was made.
public struct LiveSettings: Sendable, Hashable {
    public struct Override: Sendable, Hashable {
        public var value: JSONValue
        public var fileValue: JSONValue
        public var changedAt: Double
        public var changedBy: String
    }

    /// Key → override, for keys of `SettingKeys.live` only.
    public internal(set) var overrides: [String: Override] = [:]

    public init() {}

    /// `file` with every override applied. Overrides were validated when made (or loaded); a
    /// combination that fails the cross-key checks throws.
    func applied(to file: CollectorConfig, loader: ConfigLoader) throws -> CollectorConfig {
        var c = file
        for key in SettingKeys.live {
            if let override = overrides[key] { try SettingKeys.apply(key, override.value, to: &c, loader: loader) }
        }
        try SettingKeys.checkTogether(c)
        return c
    }

    /// A stored override that no longer applies, and why.
    struct Dropped: Sendable {
        var key: String
        var reason: String
        /// The stored value (for the audit), when it could be read.
        var value: JSONValue?
        /// True when collector.yml was edited since (the audit records the file's value as the new one).
        var superseded: Bool
    }

    /// Stored rows read against collector.yml as it is now: rows whose file value differs are
    /// superseded by the edit; unknown keys and unreadable or invalid values are dropped (a damaged
    /// row affects only its own key).
    static func reconcile(_ rows: [StoredSetting], file: CollectorConfig, loader: ConfigLoader) -> (LiveSettings, [Dropped]) {
        var result = LiveSettings()
        var dropped: [Dropped] = []
        for row in rows {
            guard SettingKeys.live.contains(row.key) else {
                dropped.append(Dropped(key: row.key, reason: "not a setting that changes live", value: nil, superseded: false))
                continue
            }
            guard let value = row.value.flatMap(JSONEncoding.value), let fileValue = row.fileValue.flatMap(JSONEncoding.value) else {
                dropped.append(Dropped(key: row.key, reason: "the stored value is not JSON", value: nil, superseded: false))
                continue
            }
            guard fileValue == SettingKeys.value(row.key, file) else {
                dropped.append(Dropped(key: row.key, reason: "collector.yml was edited since the live change", value: value, superseded: true))
                continue
            }
            var check = file
            do {
                try SettingKeys.apply(row.key, value, to: &check, loader: loader)
            } catch {
                dropped.append(Dropped(key: row.key, reason: "the stored value is no longer valid: \(error)", value: value, superseded: false))
                continue
            }
            result.overrides[row.key] = Override(value: value, fileValue: fileValue, changedAt: row.updatedAt, changedBy: row.client)
        }
        do {
            _ = try result.applied(to: file, loader: loader)
        } catch {
            // Valid one by one, not together (e.g. the file switched InfluxDB versions): the file's values win.
            for (key, override) in result.overrides.sorted(by: { $0.key < $1.key }) {
                dropped.append(Dropped(key: key, reason: "does not fit collector.yml any more: \(error)", value: override.value, superseded: true))
            }
            result.overrides = [:]
        }
        return (result, dropped)
    }
}
