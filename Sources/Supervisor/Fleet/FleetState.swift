import BlockingIO
import DeviceActor
import Foundation
import HPCore
import Logging
import Sinks

/// The fleet's state: the YAML configuration, the runtime registry and overrides as last read, and
/// what runs. Owned by `FleetControl`'s command loop: only that loop's task touches it, one command
/// at a time, so a check and the change it guards can never interleave with another command.
final class FleetState {
    let fleet: Fleet
    let loader: ConfigLoader
    let directory: String
    let store: SQLiteStore?
    let metrics: MetricsFileSink?
    let logger: Logger
    let targets: LiveSettingsTargets
    private let onCommit: @Sendable (FleetView) -> Void
    /// collector.yml, heatpumps.yml and registers.yml as last read.
    private(set) var yaml: Configuration
    /// `yaml` with the live settings applied: what runs (devices that inherit the default poll
    /// interval carry the live one).
    var base: Configuration
    /// Settings changed live (`PUT /api/settings`, `hpmanagerctl settings set`), over collector.yml.
    var settings = LiveSettings()
    /// Blocking work of the command loop (a reload's config files, token-file checks of a settings
    /// change), off the cooperative pool.
    let checkThreads = IOThreadPool(maxThreads: 1, name: "hpm-settings")
    lazy var checks = IOStrand(pool: checkThreads)
    private(set) var view: FleetView
    private(set) var started = false
    private(set) var stopped = false
    private var startOutcome: Result<ConfigDiff, any Error>?

    init(initial: Configuration, directory: String, loader: ConfigLoader, fleet: Fleet, store: SQLiteStore?, metrics: MetricsFileSink?,
         targets: LiveSettingsTargets = LiveSettingsTargets(), logger: Logger, onCommit: @escaping @Sendable (FleetView) -> Void) {
        yaml = initial
        base = initial
        self.targets = targets
        view = FleetView(configuration: initial)
        self.directory = directory
        self.loader = loader
        self.fleet = fleet
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.onCommit = onCommit
    }

    // MARK: Life cycle

    /// Applies the initial configuration once; later calls answer with that first outcome.
    func start() async throws -> ConfigDiff {
        if let startOutcome { return try startOutcome.get() }
        let outcome: Result<ConfigDiff, any Error>
        do {
            outcome = .success(try await startFleet())
        } catch {
            outcome = .failure(error)
        }
        startOutcome = outcome
        return try outcome.get()
    }

    private func startFleet() async throws -> ConfigDiff {
        if stopped { throw ControlError("shutting_down", "the daemon is shutting down") }
        metrics?.updateModels(yaml.models)
        await loadSettings()
        let merged = try await merged(base)
        started = true
        let diff = await commit(merged)
        store?.recordEvent(kind: "daemon_started", message: "\(diff.added.count) heat pumps")
        return diff
    }

    func shutdown() async {
        guard !stopped else { return }
        stopped = true
        await fleet.stopAll()
        checkThreads.shutdown()
    }

    /// Re-reads the configuration directory and the registry; on any error nothing changes.
    func reload() async -> Result<ConfigDiff, ControlError> {
        do {
            try requireRunning()
        } catch {
            return .failure(error)
        }
        let config: Configuration
        do {
            // File reads and, with control_socket.group, an NSS group lookup (sssd, LDAP can hang):
            // on the checks thread, never on the cooperative pool or the command loop's thread.
            config = try await checks.run { [loader, directory] in try loader.load(directory: directory) }
        } catch is CancellationError {
            // A reload still queued when shutdown cancels the command loop: not a config error.
            return .failure(ControlError("shutting_down", "the daemon is shutting down"))
        } catch {
            let errors = error as? ConfigErrors ?? ConfigErrors([ConfigError(.invalidValue, file: directory, line: 0, field: "", message: "\(error)")])
            return rejected(ControlError("config_invalid", errors.description))
        }
        let reconciled: (settings: LiveSettings, dropped: [LiveSettings.Dropped], base: Configuration)
        do {
            reconciled = try await reconcileSettings(with: config)
        } catch {
            return rejected(ControlError("store_failed", "the settings table cannot be read (\(error)); nothing changed"))
        }
        let merged: FleetView
        do {
            merged = try await self.merged(reconciled.base, settings: reconciled.settings)
        } catch {
            return rejected(ControlError("store_failed", "\(error); nothing changed"))
        }
        warnAboutRestartOnlySettings(old: yaml, new: config)
        // What `--check` and start-up print as warnings (e.g. display.yml naming an unknown pump).
        for warning in config.warnings {
            logger.warning("configuration warning", metadata: ["warning": "\(warning.description)"])
        }
        metrics?.updateModels(config.models)
        await dropStoredSettings(reconciled.dropped, file: config.collector)
        // A reload reaches the sinks too: what changes live over the API changes live from the file.
        await applyToSinks(old: base.collector, new: reconciled.base.collector, reason: "reload")
        yaml = config
        base = reconciled.base
        settings = reconciled.settings
        let diff = await commit(merged)
        metrics?.recordReload(success: true)
        store?.recordEvent(kind: "config_applied", message: "added \(diff.added.count), removed \(diff.removed.count), changed \(diff.changed.count), unchanged \(diff.unchanged.count)")
        return .success(diff)
    }

    private func rejected(_ error: ControlError) -> Result<ConfigDiff, ControlError> {
        logger.error("configuration rejected; keeping the running configuration", metadata: ["error_code": "\(error.code)", "errors": "\(error.message)"])
        metrics?.recordReload(success: false)
        store?.recordEvent(kind: "config_rejected", message: error.message)
        return .failure(error)
    }

    /// Changes need a started fleet: before start the view lacks the stored runtime devices.
    func requireRunning() throws(ControlError) {
        if stopped { throw ControlError("shutting_down", "the daemon is shutting down") }
        if !started { throw ControlError("not_started", "the fleet has not started (the runtime registry could not be read)") }
    }

    // MARK: Runtime registry

    func validate(spec: String) throws -> DeviceConfig {
        try Self.validate(spec: spec, loader: loader, configuration: base)
    }

    static func validate(spec: String, loader: ConfigLoader, configuration: Configuration) throws -> DeviceConfig {
        do {
            return try loader.parseDevice(text: spec, source: "request", models: configuration.models,
                                          defaultPollInterval: configuration.collector.collector.pollInterval)
        } catch let error as ConfigError {
            throw ControlError("invalid_device", error.description)
        } catch {
            throw ControlError("invalid_device", "\(error)")
        }
    }

    /// Stores the device, reads the registry back and starts it. `added` is answered only once the
    /// device is durable and running; a failed write or read-back leaves nothing behind.
    func add(spec: String) async throws -> DeviceConfig {
        try requireRunning()
        let store = try requireStore()
        let device = try validate(spec: spec)
        if view.configuration.device(device.id) != nil || view.unloadable[device.id] != nil {
            throw ControlError("exists", "heat pump \(device.id) already exists (\(view.source(of: device.id)))")
        }
        try await persist("add \(device.id)") { try await self.save(device, spec: spec, store: store) }
        let merged: FleetView
        do {
            merged = try await self.merged(base)
        } catch {
            await rollBack(device.id, store: store)
            throw ControlError("store_failed", "\(device.id) was written but the registry cannot be read back (\(error)); not added")
        }
        guard merged.runtimeIDs.contains(device.id) else {
            await rollBack(device.id, store: store)
            let reason = merged.unloadable[device.id]?.error ?? "it does not read back"
            throw ControlError("store_failed", "\(device.id) was written but \(reason); not added")
        }
        await commit(merged)
        store.recordEvent(kind: "device_added", heatpumpID: device.id)
        return device
    }

    func update(id: String, spec: String) async throws -> DeviceConfig {
        try requireRunning()
        let store = try requireStore()
        try requireRuntime(id)
        let device = try validate(spec: spec)
        guard device.id == id else { throw ControlError("invalid_device", "the spec's id \(device.id) differs from \(id)") }
        try await persist("update \(id)") { try await self.save(device, spec: spec, store: store) }
        await commitStored { view in
            view.unloadable[id] = nil
            view.runtimeIDs.insert(id)
            view.configuration.devices.removeAll { $0.id == id }
            view.configuration.devices.append(device)
        }
        store.recordEvent(kind: "device_updated", heatpumpID: id)
        return device
    }

    func remove(id: String) async throws {
        try requireRunning()
        let store = try requireStore()
        try requireRuntime(id)
        try await persist("remove \(id)") { try await store.deleteRuntimeDevice(id) }
        await commitStored { view in
            view.unloadable[id] = nil
            view.runtimeIDs.remove(id)
            view.configuration.devices.removeAll { $0.id == id }
        }
        store.recordEvent(kind: "device_removed", heatpumpID: id)
    }

    func setEnabled(id: String, _ enabled: Bool) async throws {
        try requireRunning()
        let store = try requireStore()
        if view.runtimeIDs.contains(id) || view.unloadable[id] != nil {
            try await persist("\(enabled ? "enable" : "disable") \(id)") { try await store.setRuntimeDeviceEnabled(id, enabled) }
        } else if yaml.device(id) != nil {
            try await persist("\(enabled ? "enable" : "disable") \(id)") { try await store.setOverride(id, enabled: enabled) }
        } else {
            throw ControlError("not_found", "no heat pump \(id)")
        }
        await commitStored { view in
            for index in view.configuration.devices.indices where view.configuration.devices[index].id == id {
                view.configuration.devices[index].enabled = enabled
            }
            view.unloadable[id]?.enabled = enabled
        }
        store.recordEvent(kind: enabled ? "device_enabled" : "device_disabled", heatpumpID: id)
    }

    private func requireStore() throws -> SQLiteStore {
        guard let store else { throw ControlError("unavailable", "runtime changes need the SQLite store") }
        return store
    }

    private func requireRuntime(_ id: String) throws {
        if view.runtimeIDs.contains(id) || view.unloadable[id] != nil { return }
        if yaml.device(id) != nil {
            throw ControlError("defined_in_file", "\(id) is defined in heatpumps.yml: edit the file and reload (enable/disable work at runtime)")
        }
        throw ControlError("not_found", "no heat pump \(id)")
    }

    /// Runs a registry write; a failure becomes `store_failed` and nothing changes.
    private func persist(_ what: String, _ write: () async throws -> Void) async throws {
        do {
            try await write()
        } catch {
            logger.error("runtime change not stored; nothing changed", metadata: ["change": "\(what)", "error": "\(error)"])
            throw ControlError("store_failed", "cannot \(what): the SQLite store refused the change (\(error)); nothing changed")
        }
    }

    private func rollBack(_ id: String, store: SQLiteStore) async {
        do {
            try await store.deleteRuntimeDevice(id)
        } catch {
            logger.critical("cannot roll back a runtime device that failed to read back; it may appear after a restart",
                            metadata: ["heatpump_id": "\(id)", "error": "\(error)"])
        }
    }

    private func save(_ device: DeviceConfig, spec: String, store: SQLiteStore) async throws {
        let manufacturer = yaml.models[device.model]?.manufacturer ?? ""
        var connection = "{}"
        if let object = try? JSONSerialization.jsonObject(with: Data(spec.utf8)) as? [String: Any], let modbus = object["modbus"],
           let data = try? JSONSerialization.data(withJSONObject: modbus, options: [.sortedKeys]) {
            connection = String(decoding: data, as: UTF8.self)  // informational column; a YAML spec keeps "{}"
        }
        try await store.saveRuntimeDevice(id: device.id, name: device.name, location: device.location, manufacturer: manufacturer,
                                          model: device.model, connection: connection, spec: spec, enabled: device.enabled)
    }

    // MARK: Applying

    /// After a stored change: re-reads the registry; if that fails, applies the stored change to the
    /// last committed view (running devices follow what is stored) and logs the read failure.
    func commitStored(_ change: (inout FleetView) -> Void) async {
        do {
            await commit(try await merged(base))
        } catch {
            logger.error("registry read failed after a stored change; applying the change to the last known registry", metadata: ["error": "\(error)"])
            var next = view
            change(&next)
            await commit(next)
        }
    }

    @discardableResult
    func commit(_ next: FleetView) async -> ConfigDiff {
        view = next
        onCommit(next)
        return await fleet.apply(next.configuration, unloadable: next.unloadable)
    }

    /// YAML devices (with overrides) plus runtime devices. Throws when a table cannot be read at all
    /// (nothing is guessed: a lost override would bring a disabled device back up); a damaged row
    /// only affects its own device.
    func merged(_ base: Configuration, settings: LiveSettings? = nil) async throws -> FleetView {
        var result = FleetView(configuration: base)
        result.liveSettings = settings ?? self.settings
        result.liveKeys = liveKeys
        guard let store else { return result }
        let overrides: [StoredOverride]
        let rows: [RuntimeDevice]
        do {
            overrides = try await store.overrides()
        } catch {
            throw RegistryError(table: "overrides", path: store.path, underlying: "\(error)")
        }
        do {
            rows = try await store.runtimeDevices()
        } catch {
            throw RegistryError(table: "heatpumps", path: store.path, underlying: "\(error)")
        }
        var enabledByID: [String: Bool] = [:]
        for override in overrides {
            if let enabled = override.enabled {
                enabledByID[override.heatpumpID] = enabled
            } else {
                // Someone switched this device at runtime; without knowing to what, keep it off.
                enabledByID[override.heatpumpID] = false
                logger.error("unreadable override (enabled is not 0 or 1); keeping the device disabled", metadata: ["heatpump_id": "\(override.heatpumpID)"])
            }
        }
        for index in result.configuration.devices.indices {
            if let enabled = enabledByID[result.configuration.devices[index].id] { result.configuration.devices[index].enabled = enabled }
        }
        var ids = Set(result.configuration.devices.map(\.id))
        for stored in rows {
            guard !ids.contains(stored.id) else {
                logger.error("runtime device hidden by a heatpumps.yml device with the same id", metadata: ["heatpump_id": "\(stored.id)"])
                continue
            }
            ids.insert(stored.id)
            do {
                var device = try load(stored, models: base.models, pollInterval: base.collector.collector.pollInterval)
                device.enabled = stored.enabled ?? false
                result.configuration.devices.append(device)
                result.runtimeIDs.insert(device.id)
            } catch {
                let unloadable = UnloadableDevice(labels: DeviceLabels(id: stored.id, name: stored.name, location: stored.location, model: stored.model,
                                                                       manufacturer: stored.manufacturer),
                                                  enabled: stored.enabled ?? false, error: "\(error)")
                if view.unloadable[stored.id] != unloadable {
                    logger.error("stored runtime device cannot be loaded; shown as failed, not started", metadata: [
                        "heatpump_id": "\(stored.id)", "error": "\(error)",
                    ])
                }
                result.unloadable[stored.id] = unloadable
            }
        }
        return result
    }

    private func load(_ stored: RuntimeDevice, models: [String: ModelDefinition], pollInterval: Double) throws -> DeviceConfig {
        guard let spec = stored.spec else { throw RowError("the stored spec (config column) is not text") }
        guard stored.enabled != nil else { throw RowError("the stored enabled flag is not 0 or 1") }
        let device: DeviceConfig
        do {
            device = try loader.parseDevice(text: spec, source: "runtime:\(stored.id)", models: models, defaultPollInterval: pollInterval)
        } catch let error as ConfigError {
            throw RowError(error.description)
        }
        guard device.id == stored.id else { throw RowError("the stored spec's id \(device.id) differs from the row's id") }
        return device
    }

    private func warnAboutRestartOnlySettings(old: Configuration, new: Configuration) {
        var changed: [String] = []
        if old.collector.metricsFile != new.collector.metricsFile { changed.append("metrics_file") }
        if old.collector.logging != new.collector.logging { changed.append("logging") }
        if old.collector.collector.ioThreads != new.collector.collector.ioThreads { changed.append("collector.io_threads") }
        if old.collector.supervisor != new.collector.supervisor { changed.append("supervisor") }
        // Alerts and InfluxDB's destination and batching apply live (`applyToSinks`); the rest of the section does not.
        if Self.restartOnlyInflux(old.collector) != Self.restartOnlyInflux(new.collector) { changed.append("influxdb") }
        if old.collector.sqlite != new.collector.sqlite { changed.append("sqlite") }
        if old.collector.controlSocket != new.collector.controlSocket { changed.append("control_socket") }
        if old.collector.writes != new.collector.writes { changed.append("writes") }
        if old.collector.site != new.collector.site { changed.append("site") }
        if old.collector.remoteWrite != new.collector.remoteWrite { changed.append("remote_write") }
        if old.collector.mqtt != new.collector.mqtt { changed.append("mqtt") }
        if old.collector.notify != new.collector.notify, targets.notifier == nil { changed.append("notify") }
        if !changed.isEmpty {
            logger.warning("some changed settings take effect only after a daemon restart", metadata: ["settings": "\(changed.joined(separator: ", "))"])
        }
    }
}

/// Why one stored runtime row cannot be loaded (its message is shown as the device's error).
struct RowError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
