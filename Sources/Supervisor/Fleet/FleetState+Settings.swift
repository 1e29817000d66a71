import ControlProtocol
import Foundation
import HPCore
import Logging
import Sinks

/// One change of a live setting: a new value, or back to collector.yml's.
public enum SettingChange: Sendable, Hashable {
    case set(JSONValue)
    case reset
}

/// Live settings, on the fleet's command loop like every other fleet change: a change is checked
/// whole, stored with its audit in one transaction, then reaches the Influx sink, the alert monitor
/// and the devices (only those that follow the changed default poll interval restart, on their link).
extension FleetState {
    /// The keys that change live in this daemon: InfluxDB's only while its sink runs.
    var liveKeys: [String] {
        SettingKeys.live.filter { key in
            if SettingKeys.influxKeys.contains(key) { return targets.influx != nil }
            if key == SettingKeys.alerts { return targets.alerts != nil }
            return true
        }
    }

    /// `config` with `settings` applied, devices that inherit the default poll interval included.
    func effective(_ config: Configuration, _ settings: LiveSettings) throws -> Configuration {
        var result = config
        result.collector = try settings.applied(to: config.collector, loader: loader)
        let interval = result.collector.collector.pollInterval
        for index in result.devices.indices where result.devices[index].inheritsPollInterval {
            result.devices[index].pollInterval = interval
        }
        return result
    }

    /// At start: the stored settings over collector.yml; a table that cannot be read leaves the
    /// file's values in force (logged, recorded), superseded rows are removed.
    func loadSettings() async {
        do {
            let reconciled = try await reconcileSettings(with: yaml)
            await dropStoredSettings(reconciled.dropped, file: yaml.collector)
            await applyToSinks(old: yaml.collector, new: reconciled.base.collector, reason: "start")
            settings = reconciled.settings
            base = reconciled.base
        } catch {
            logger.error("live settings cannot be read; collector.yml's values apply", metadata: ["error": "\(error)"])
            store?.recordEvent(kind: "settings_unreadable", message: "\(error)")
        }
    }

    /// Stored settings read against `config` (nothing is changed yet).
    func reconcileSettings(with config: Configuration) async throws -> (settings: LiveSettings, dropped: [LiveSettings.Dropped], base: Configuration) {
        guard let store else { return (LiveSettings(), [], config) }
        let (kept, dropped) = LiveSettings.reconcile(try await store.storedSettings(), file: config.collector, loader: loader)
        let base: Configuration
        do {
            base = try effective(config, kept)
        } catch {
            return (LiveSettings(), dropped, config)  // `reconcile` already checked them together
        }
        return (kept, dropped, base)
    }

    /// Removes stored settings that no longer apply, with an audit row each.
    func dropStoredSettings(_ dropped: [LiveSettings.Dropped], file: CollectorConfig) async {
        guard let store, !dropped.isEmpty else { return }
        let audit = dropped.map { d in
            SettingsAuditEntry(client: d.superseded ? "collector.yml" : "daemon", key: d.key,
                               old: JSONEncoding.text(d.value.map { SettingKeys.redacted(d.key, $0) } ?? .null),
                               new: JSONEncoding.text(SettingKeys.redacted(d.key, SettingKeys.value(d.key, file))), source: "collector.yml")
        }
        for d in dropped {
            logger.warning("live setting dropped; collector.yml's value applies", metadata: ["setting": "\(d.key)", "reason": "\(d.reason)"])
        }
        do {
            try await store.changeSettings(set: [], removed: dropped.map(\.key), audit: audit)
        } catch {
            logger.error("cannot remove dropped live settings from the store", metadata: ["error": "\(error)"])
        }
        store.recordEvent(kind: "settings_dropped", message: dropped.map { "\($0.key): \($0.reason)" }.joined(separator: "; "))
    }

    /// Brings the Influx sink and the alert monitor to `new`. Throws only when the Influx sink
    /// refuses its new settings (then it keeps the old ones); alert rules cannot fail.
    func reconfigureSinks(old: CollectorConfig, new: CollectorConfig) async throws {
        if let influx = targets.influx, new.influxdb.enabled, Self.liveInflux(old) != Self.liveInflux(new) {
            try await influx.reconfigure(new.influxdb, batchSize: new.collector.batchSize, batchInterval: new.collector.batchInterval)
        }
        if let alerts = targets.alerts, old.alerts != new.alerts { alerts.replaceRules(new.alerts) }
        if let notifier = targets.notifier, old.notify != new.notify { notifier.reconfigure(new.notify) }
    }

    /// `reconfigureSinks` where nothing can be refused any more (start, reload): a failure is logged.
    func applyToSinks(old: CollectorConfig, new: CollectorConfig, reason: String) async {
        do {
            try await reconfigureSinks(old: old, new: new)
        } catch {
            logger.error("the Influx sink refused its new settings; it keeps writing with the old ones", metadata: ["on": "\(reason)", "error": "\(error)"])
        }
    }

    /// What of collector.yml changes the Influx sink live.
    static func liveInflux(_ c: CollectorConfig) -> [String] {
        let i = c.influxdb
        return [i.url, i.org, i.bucket, i.database, i.token, i.tokenFile, "\(c.collector.batchSize)", "\(c.collector.batchInterval)"]
    }

    /// The Influx settings that need a restart (everything `liveInflux` does not cover).
    static func restartOnlyInflux(_ c: CollectorConfig) -> InfluxSettings {
        var i = c.influxdb
        (i.url, i.org, i.bucket, i.database, i.token, i.tokenFile) = ("", "", "", "", "", "")
        return i
    }

    /// Applies a change of live settings, all or nothing, and answers with the keys whose running
    /// value changed (empty when nothing differed: nothing is stored or audited then).
    func changeSettings(_ changes: [String: SettingChange], client: String) async throws -> [String] {
        try requireRunning()
        guard let store else { throw ControlError("unavailable", "live settings need the SQLite store (they are kept there)") }
        let live = Set(liveKeys)
        let refused = changes.keys.filter { !live.contains($0) }.sorted()
        if let first = refused.first {
            let unknown = refused.filter { !Self.knownKeys.contains($0) }
            if let key = unknown.first {
                throw CommandError(.badRequest, "\(key): unknown setting; settings that change live: \(liveKeys.joined(separator: ", "))", field: key)
            }
            let reasons = refused.map { key in
                SettingKeys.influxKeys.contains(key) ? "\(key) (influxdb is disabled in collector.yml; turning the InfluxDB sink on needs a restart)"
                    : "\(key) (\(SettingKeys.notLiveReason(key)))"
            }
            throw CommandError(.notLive, "these settings cannot be applied live: \(reasons.joined(separator: "; "))", field: first)
        }
        let now = Date().timeIntervalSince1970
        var next = settings
        var candidate = base.collector
        for (key, change) in changes.sorted(by: { $0.key < $1.key }) {
            switch change {
            case .reset:
                next.overrides[key] = nil
            case .set(let value):
                try SettingKeys.apply(key, value, to: &candidate, loader: loader)
                let canonical = SettingKeys.value(key, candidate)
                let fileValue = SettingKeys.value(key, yaml.collector)
                next.overrides[key] = canonical == fileValue ? nil
                    : LiveSettings.Override(value: canonical, fileValue: fileValue, changedAt: now, changedBy: client)
            }
        }
        let nextBase = try effective(yaml, next)
        let old = base.collector, new = nextBase.collector
        let changed = SettingKeys.live.filter { key in
            SettingKeys.value(key, old) != SettingKeys.value(key, new) || (settings.overrides[key] == nil) != (next.overrides[key] == nil)
        }
        guard !changed.isEmpty else { return [] }
        if new.influxdb.tokenFile != old.influxdb.tokenFile, !new.influxdb.tokenFile.isEmpty {
            let path = new.influxdb.tokenFile
            let roots = tokenFileRoots
            try await checks.run { try TokenFileCheck.check(path, roots: roots, key: SettingKeys.influxTokenFile) }
        }
        let rows = changed.compactMap { key in
            next.overrides[key].map { o in
                StoredSetting(key: key, value: JSONEncoding.text(o.value), fileValue: JSONEncoding.text(o.fileValue), updatedAt: o.changedAt, client: o.changedBy)
            }
        }
        let removed = changed.filter { next.overrides[$0] == nil }
        let audit = changed.map { key in
            SettingsAuditEntry(at: now, client: client, key: key, old: JSONEncoding.text(SettingKeys.redacted(key, SettingKeys.value(key, old))),
                               new: JSONEncoding.text(SettingKeys.redacted(key, SettingKeys.value(key, new))),
                               source: next.overrides[key] == nil ? "collector.yml" : "runtime")
        }
        do {
            try await store.changeSettings(set: rows, removed: removed, audit: audit)
        } catch {
            logger.error("settings change not stored; nothing changed", metadata: ["settings": "\(changed.joined(separator: ", "))", "error": "\(error)"])
            throw ControlError("store_failed", "the SQLite store refused the settings change (\(error)); nothing changed")
        }
        do {
            try await reconfigureSinks(old: old, new: new)
        } catch {
            await restoreStored(changed, store: store)
            throw CommandError(.failed, "the Influx sink refused the new settings (\(error)); nothing changed", field: changed.first)
        }
        settings = next
        base = nextBase
        await commitStored { view in
            view.configuration.collector = nextBase.collector
            for index in view.configuration.devices.indices where view.configuration.devices[index].inheritsPollInterval {
                view.configuration.devices[index].pollInterval = nextBase.collector.collector.pollInterval
            }
            view.liveSettings = next
        }
        store.recordEvent(kind: "settings_changed", message: "\(changed.joined(separator: ", ")) by \(client)")
        logger.notice("settings changed live", metadata: ["settings": "\(changed.joined(separator: ", "))", "client": "\(client)"])
        return changed
    }

    /// Puts the stored rows of `keys` back as they were before a change that could not be applied.
    private func restoreStored(_ keys: [String], store: SQLiteStore) async {
        let rows = keys.compactMap { key in
            settings.overrides[key].map { o in
                StoredSetting(key: key, value: JSONEncoding.text(o.value), fileValue: JSONEncoding.text(o.fileValue), updatedAt: o.changedAt, client: o.changedBy)
            }
        }
        do {
            try await store.changeSettings(set: rows, removed: keys.filter { settings.overrides[$0] == nil }, audit: [])
        } catch {
            logger.critical("cannot restore the stored settings after a refused change; they may apply after a restart",
                            metadata: ["settings": "\(keys.joined(separator: ", "))", "error": "\(error)"])
        }
    }

    /// Keys the settings view shows (live or not): anything else is unknown (400), not "not live" (409).
    static let knownKeys: Set<String> = Set(SettingKeys.live).union([
        "influxdb.enabled", "influxdb.version", "influxdb.token", "influxdb.token_set", "http.listen", "http.tls", "http.tokens",
    ])

    /// Where a token file named live may live.
    var tokenFileRoots: [String] {
        var roots = [yaml.directory]
        if let credentials = ProcessInfo.processInfo.environment["CREDENTIALS_DIRECTORY"], !credentials.isEmpty { roots.append(credentials) }
        let configured = yaml.collector.influxdb.tokenFile
        if !configured.isEmpty { roots.append((configured as NSString).deletingLastPathComponent) }
        return roots
    }
}
