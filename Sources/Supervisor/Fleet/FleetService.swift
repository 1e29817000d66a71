import DeviceActor
import HPCore
import Logging
import ServiceLifecycle
import Sinks
import Synchronization

/// Runs the fleet as a service: applies the initial configuration, applies reloads, and stops every
/// device on graceful shutdown. A reload that fails validation changes nothing.
public final class FleetService: Service {
    public let fleet: Fleet
    private let loader: ConfigLoader
    private let directory: String
    private let metrics: MetricsFileSink?
    private let store: SQLiteStore?
    private let logger: Logger
    private let initial: Configuration
    private let current: Mutex<Configuration>

    public init(initial: Configuration, directory: String, loader: ConfigLoader, fleet: Fleet, metrics: MetricsFileSink?,
                store: SQLiteStore? = nil, logger: Logger) {
        self.store = store
        self.initial = initial
        self.directory = directory
        self.loader = loader
        self.fleet = fleet
        self.metrics = metrics
        self.logger = logger
        current = Mutex(initial)
    }

    public func run() async throws {
        metrics?.updateModels(initial.models)
        let diff = await fleet.apply(initial)
        store?.recordEvent(kind: "daemon_started", message: "\(diff.added.count) heat pumps")
        try? await gracefulShutdown()
        logger.info("stopping devices")
        await fleet.stopAll()
    }

    /// Re-reads the configuration directory and applies it; on error the running config stays.
    @discardableResult
    public func reload() async -> Result<ConfigDiff, ConfigErrors> {
        do {
            let config = try loader.load(directory: directory)
            warnAboutRestartOnlySettings(old: current.withLock { $0 }, new: config)
            metrics?.updateModels(config.models)
            let diff = await fleet.apply(config)
            current.withLock { $0 = config }
            metrics?.recordReload(success: true)
            store?.recordEvent(kind: "config_applied", message: "added \(diff.added.count), removed \(diff.removed.count), changed \(diff.changed.count), unchanged \(diff.unchanged.count)")
            return .success(diff)
        } catch let errors as ConfigErrors {
            logger.error("configuration rejected; keeping the running configuration", metadata: ["errors": "\(errors.description)"])
            metrics?.recordReload(success: false)
            store?.recordEvent(kind: "config_rejected", message: errors.description)
            return .failure(errors)
        } catch {
            let wrapped = ConfigErrors([ConfigError(.invalidValue, file: directory, line: 0, field: "", message: "\(error)")])
            logger.error("configuration rejected; keeping the running configuration", metadata: ["errors": "\(wrapped)"])
            metrics?.recordReload(success: false)
            store?.recordEvent(kind: "config_rejected", message: wrapped.description)
            return .failure(wrapped)
        }
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
        if !changed.isEmpty {
            logger.warning("some changed settings take effect only after a daemon restart", metadata: ["settings": "\(changed.joined(separator: ", "))"])
        }
    }
}
