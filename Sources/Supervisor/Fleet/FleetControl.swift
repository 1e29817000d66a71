import DeviceActor
import Foundation
import HPCore
import Logging
import Sinks

/// The single owner of "which heat pumps run": the YAML configuration, devices added at runtime
/// (SQLite), and runtime enable/disable overrides. Every change goes through here, one at a time.
///
/// Precedence: a device id lives either in heatpumps.yml or in the runtime registry, never both.
/// `enable`/`disable` of a YAML device is stored as an override that wins over its `enabled` key
/// (and survives restarts and reloads); `update`/`remove` only apply to runtime devices.
public actor FleetControl {
    public let fleet: Fleet
    private let loader: ConfigLoader
    private let directory: String
    private let store: SQLiteStore?
    private let metrics: MetricsFileSink?
    private let logger: Logger
    public private(set) var yaml: Configuration
    private var runtimeIDs: Set<String> = []
    private var effective: Configuration

    public init(initial: Configuration, directory: String, loader: ConfigLoader, fleet: Fleet, store: SQLiteStore?,
                metrics: MetricsFileSink?, logger: Logger) {
        yaml = initial
        effective = initial
        self.directory = directory
        self.loader = loader
        self.fleet = fleet
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    public var configuration: Configuration { effective }

    /// YAML devices (with overrides) plus runtime devices.
    private func merged(_ base: Configuration) async -> Configuration {
        var config = base
        guard let store else { return config }
        let overrides = (try? await store.overrides()) ?? [:]
        for index in config.devices.indices {
            if let enabled = overrides[config.devices[index].id] { config.devices[index].enabled = enabled }
        }
        var ids = Set(config.devices.map(\.id))
        var runtime: Set<String> = []
        for stored in (try? await store.runtimeDevices()) ?? [] {
            do {
                var device = try loader.parseDevice(text: stored.spec, source: "runtime:\(stored.id)", models: config.models,
                                                    defaultPollInterval: config.collector.collector.pollInterval)
                device.enabled = stored.enabled
                guard ids.insert(device.id).inserted else {
                    logger.error("runtime device hidden by a heatpumps.yml device with the same id", metadata: ["heatpump_id": "\(device.id)"])
                    continue
                }
                config.devices.append(device)
                runtime.insert(device.id)
            } catch {
                logger.error("stored runtime device no longer valid; not started", metadata: ["heatpump_id": "\(stored.id)", "error": "\(error)"])
            }
        }
        runtimeIDs = runtime
        return config
    }

    @discardableResult
    public func start() async -> ConfigDiff {
        metrics?.updateModels(yaml.models)
        effective = await merged(yaml)
        let diff = await fleet.apply(effective)
        store?.recordEvent(kind: "daemon_started", message: "\(diff.added.count) heat pumps")
        return diff
    }

    /// Re-reads the configuration directory; on any error nothing changes.
    public func reload() async -> Result<ConfigDiff, ConfigErrors> {
        do {
            let config = try loader.load(directory: directory)
            warnAboutRestartOnlySettings(old: yaml, new: config)
            metrics?.updateModels(config.models)
            yaml = config
            let diff = await reapply()
            metrics?.recordReload(success: true)
            store?.recordEvent(kind: "config_applied", message: "added \(diff.added.count), removed \(diff.removed.count), changed \(diff.changed.count), unchanged \(diff.unchanged.count)")
            return .success(diff)
        } catch {
            let errors = error as? ConfigErrors ?? ConfigErrors([ConfigError(.invalidValue, file: directory, line: 0, field: "", message: "\(error)")])
            logger.error("configuration rejected; keeping the running configuration", metadata: ["errors": "\(errors.description)"])
            metrics?.recordReload(success: false)
            store?.recordEvent(kind: "config_rejected", message: errors.description)
            return .failure(errors)
        }
    }

    private func reapply() async -> ConfigDiff {
        effective = await merged(yaml)
        return await fleet.apply(effective)
    }

    private func warnAboutRestartOnlySettings(old: Configuration, new: Configuration) {
        var changed: [String] = []
        if old.collector.metricsFile != new.collector.metricsFile { changed.append("metrics_file") }
        if old.collector.logging != new.collector.logging { changed.append("logging") }
        if old.collector.collector.ioThreads != new.collector.collector.ioThreads { changed.append("collector.io_threads") }
        if old.collector.supervisor != new.collector.supervisor { changed.append("supervisor") }
        if old.collector.alerts != new.collector.alerts { changed.append("alerts") }
        if old.collector.influxdb != new.collector.influxdb { changed.append("influxdb") }
        if old.collector.sqlite != new.collector.sqlite { changed.append("sqlite") }
        if old.collector.controlSocket != new.collector.controlSocket { changed.append("control_socket") }
        if !changed.isEmpty {
            logger.warning("some changed settings take effect only after a daemon restart", metadata: ["settings": "\(changed.joined(separator: ", "))"])
        }
    }

    // MARK: Runtime registry

    private func requireStore() throws -> SQLiteStore {
        guard let store else { throw ControlError("unavailable", "runtime changes need the SQLite store") }
        return store
    }

    /// Validates a device given as JSON/YAML text like a heatpumps.yml entry.
    public func validate(spec: String) throws -> DeviceConfig {
        do {
            return try loader.parseDevice(text: spec, source: "request", models: yaml.models, defaultPollInterval: yaml.collector.collector.pollInterval)
        } catch let error as ConfigError {
            throw ControlError("invalid_device", error.description)
        } catch {
            throw ControlError("invalid_device", "\(error)")
        }
    }

    public func add(spec: String) async throws -> DeviceConfig {
        let store = try requireStore()
        let device = try validate(spec: spec)
        guard effective.device(device.id) == nil else {
            throw ControlError("exists", "heat pump \(device.id) already exists (\(runtimeIDs.contains(device.id) ? "runtime" : "heatpumps.yml"))")
        }
        try await save(device, spec: spec, store: store)
        store.recordEvent(kind: "device_added", heatpumpID: device.id)
        _ = await reapply()
        return device
    }

    public func update(id: String, spec: String) async throws -> DeviceConfig {
        let store = try requireStore()
        try requireRuntime(id)
        let device = try validate(spec: spec)
        guard device.id == id else { throw ControlError("invalid_device", "the spec's id \(device.id) differs from \(id)") }
        try await save(device, spec: spec, store: store)
        store.recordEvent(kind: "device_updated", heatpumpID: id)
        _ = await reapply()
        return device
    }

    public func remove(id: String) async throws {
        let store = try requireStore()
        try requireRuntime(id)
        try await store.deleteRuntimeDevice(id)
        store.recordEvent(kind: "device_removed", heatpumpID: id)
        _ = await reapply()
    }

    public func setEnabled(id: String, _ enabled: Bool) async throws {
        let store = try requireStore()
        if runtimeIDs.contains(id) {
            try await store.setRuntimeDeviceEnabled(id, enabled)
        } else if yaml.device(id) != nil {
            try await store.setOverride(id, enabled: enabled)
        } else {
            throw ControlError("not_found", "no heat pump \(id)")
        }
        store.recordEvent(kind: enabled ? "device_enabled" : "device_disabled", heatpumpID: id)
        _ = await reapply()
    }

    private func requireRuntime(_ id: String) throws {
        if runtimeIDs.contains(id) { return }
        if yaml.device(id) != nil {
            throw ControlError("defined_in_file", "\(id) is defined in heatpumps.yml: edit the file and reload (enable/disable work at runtime)")
        }
        throw ControlError("not_found", "no heat pump \(id)")
    }

    private func save(_ device: DeviceConfig, spec: String, store: SQLiteStore) async throws {
        let manufacturer = yaml.models[device.model]?.manufacturer ?? ""
        let connection = (try? JSONSerialization.jsonObject(with: Data(spec.utf8)) as? [String: Any])?["modbus"]
            .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        try await store.saveRuntimeDevice(id: device.id, name: device.name, location: device.location, manufacturer: manufacturer,
                                          model: device.model, connection: connection, spec: spec, enabled: device.enabled)
    }

    public func source(of id: String) -> String { runtimeIDs.contains(id) ? "runtime" : "heatpumps.yml" }
}
