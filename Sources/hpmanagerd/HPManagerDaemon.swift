import ArgumentParser
import BuildInfo
import ModbusKit
import NIOPosix
import DeviceActor
import Drivers
import Foundation
import HPCore
import HTTPAPI
import Logging
import ServiceLifecycle
import Sinks
import Supervisor
#if canImport(Glibc)
import Glibc
#endif

/// `hpmanagerd`: polls every configured heat pump and exports readings.
@main
struct HPManagerDaemon: AsyncParsableCommand {
    static let version = BuildInfo.version

    static let configuration = CommandConfiguration(
        commandName: "hpmanagerd",
        abstract: "Heat-pump manager daemon: polls heat pumps over Modbus and exports their readings.",
        discussion: """
        Reads heatpumps.yml, registers.yml and collector.yml from --config-dir.
        Signals: SIGHUP reloads the configuration (an invalid one is rejected and the running one kept);
        SIGTERM/SIGINT shut down gracefully.
        """,
        version: BuildInfo.description
    )

    @Option(name: .customLong("config-dir"), help: "Directory with heatpumps.yml, registers.yml, collector.yml.")
    var configDir = "config"

    @Option(name: .customLong("log-level"), help: "Override logging.level (debug, info, warning, error, critical).")
    var logLevel: String?

    @Flag(name: .customLong("check"), help: "Validate the configuration, print a summary and exit.")
    var check = false

    func run() async throws {
        // Before anything is created: the log, store, spool, lock and socket are not for other users.
        umask(0o027)
        // A closed stderr or log pipe must fail a write (handled), not kill the daemon.
        signal(SIGPIPE, SIG_IGN)
        SignalMask.unblockAll()
        let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files)
        let config: Configuration
        do {
            config = try loader.load(directory: configDir)
        } catch let errors as ConfigErrors {
            FileHandle.standardError.write(Data("hpmanagerd: invalid configuration in \(configDir):\n\(errors.description)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG
        }
        for warning in config.warnings {
            FileHandle.standardError.write(Data("hpmanagerd: warning: \(warning.description)\n".utf8))
        }
        if check {
            let enabled = config.devices.filter(\.enabled).count
            let notify = config.collector.notify
            let channels = notify.enabled ? ", \(notify.channels.count) notification channels, \(notify.routes.count) routes" : ""
            print("configuration OK: \(config.devices.count) heat pumps (\(enabled) enabled), \(config.models.count) models\(channels)")
            return
        }
        let (logger, logOutput) = try bootstrapLogging(config.collector.logging)
        // Every way out of run() (return, a thrown exit code) writes the buffered log lines first.
        defer { logOutput.flush(timeout: 5) }
        raiseFileLimit(logger: logger)

        // Modbus TCP runs on a few event loops (epoll): waiting for a device costs no thread.
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: config.collector.collector.ioThreads)
        let c = config.collector.collector
        let links = LinkRegistry(group: eventLoops, throttle: ConnectThrottle(rate: c.reconnectRate, burst: Double(c.reconnectBurst)))
        var sinks: [any TelemetrySink] = []
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []

        // One daemon per state directory, decided before the store or spool is opened.
        let locks = try lockStateDirectories(config.collector, logger: logger)
        if !config.collector.controlSocket.path.isEmpty {
            do {
                try ControlServer.prepare(path: config.collector.controlSocket.path)
            } catch let error as ControlServer.StartError {
                FileHandle.standardError.write(Data("hpmanagerd: \(error)\n".utf8))
                logger.critical("cannot use the control socket path", metadata: ["path": "\(config.collector.controlSocket.path)", "error": "\(error)"])
                switch error.kind {
                case .configuration: throw ExitCode(78)  // EX_CONFIG
                case .inUse: throw ExitCode(75)  // EX_TEMPFAIL: another instance is running
                case .cannotPrepare: throw ExitCode(73)  // EX_CANTCREAT
                }
            }
        }
        let stateMonitor = StateDirectoryMonitor(locks: locks, logger: logger)
        services.append(.init(service: stateMonitor, serviceName: "state-directory"))

        // Embedded store: registry, events, alerts, audit, reading history.
        let store = SQLiteStore(path: config.collector.sqlite.path, retention: config.collector.sqlite.readingsRetention, logger: logger)
        do {
            try await store.open()
        } catch {
            FileHandle.standardError.write(Data("hpmanagerd: cannot open SQLite store \(config.collector.sqlite.path): \(error)\n".utf8))
            throw ExitCode(73)  // EX_CANTCREAT
        }
        sinks.append(store)
        services.append(.init(service: store, serviceName: "sqlite"))

        let influx = config.collector.influxdb
        var influxSink: InfluxSink?
        if influx.enabled {
            let spoolPath = Self.spoolPath(config.collector)
            let sink = InfluxSink(settings: influx, batchSize: config.collector.collector.batchSize,
                                  batchInterval: config.collector.collector.batchInterval, spoolPath: spoolPath,
                                  site: config.collector.site, logger: logger)
            influxSink = sink
            sinks.append(sink)
            services.append(.init(service: sink, serviceName: "influxdb"))
        }

        // One sink (inbox, spool, sender thread) per remote-write receiver.
        var remoteWriteSinks: [RemoteWriteSink] = []
        for settings in config.collector.remoteWrite {
            let sink = RemoteWriteSink(settings: settings, spoolPath: Self.remoteWriteSpoolPath(settings, config.collector),
                                       site: config.collector.site, version: Self.version, logger: logger)
            remoteWriteSinks.append(sink)
            sinks.append(sink)
            services.append(.init(service: sink, serviceName: "remote-write-\(settings.name)"))
        }

        // MQTT: retained state, availability, Home Assistant discovery; writes through the same operation as the socket.
        let mqttBridge = MQTTBridge()
        var mqttSink: MQTTSink?
        if config.collector.mqtt.enabled {
            let settings = config.collector.mqtt
            let catalog: MQTTRegisterCatalog = { id in await mqttBridge.registers(id) }
            var write: MQTTWriteHandler?
            if settings.allowWrites { write = { @Sendable request in await mqttBridge.write(request) } }
            let sink = MQTTSink(settings: settings, outboxPath: Self.mqttOutboxPath(config.collector), site: config.collector.site,
                                version: Self.version, catalog: catalog, write: write, store: store, logger: logger)
            mqttSink = sink
            sinks.append(sink)
            services.append(.init(service: sink, serviceName: "mqtt"))
        }

        let alerts = AlertMonitor(rules: config.collector.alerts, store: store, logger: logger)
        sinks.append(alerts)
        services.append(.init(service: alerts, serviceName: "alerts"))
        // Notifications: raised and resolved alerts routed, grouped and delivered through the store's
        // outbox. Always running (idle without channels), so a reload can turn `notify:` on, change it or off.
        let alertNotifier = Notifier(settings: config.collector.notify, site: config.collector.site.id, store: store, version: Self.version, logger: logger)
        alerts.addListener { transition, device, at in alertNotifier.alertChanged(transition, device: device, at: at) }
        services.append(.init(service: alertNotifier, serviceName: "notify"))
        // Alerts open from before a restart continue (not raised and notified again; resolved once they clear).
        // Only devices that will poll: a disabled one's open alert could never clear, so it is resolved.
        var known = config.devices.filter(\.enabled).map { d in
            DeviceLabels(id: d.id, name: d.name, location: d.location, model: d.model, manufacturer: config.models[d.model]?.manufacturer ?? "")
        }
        do {
            let runtime = try await store.runtimeDevices()
            let fromFile = Set(known.map(\.id))
            known += runtime.filter { $0.enabled == true && !fromFile.contains($0.id) }.map {
                DeviceLabels(id: $0.id, name: $0.name, location: $0.location, model: $0.model, manufacturer: $0.manufacturer)
            }
            await alerts.restore(devices: known)
        } catch {
            // Without the runtime registry its devices' open alerts would look stale and be resolved: skip instead.
            logger.error("cannot read the runtime devices; open alerts are not continued", metadata: ["error": "\(error)"])
        }

        var metrics: MetricsFileSink?
        let fileSettings = config.collector.metricsFile
        if fileSettings.enabled {
            let shortest = config.devices.filter(\.enabled).map(\.pollInterval).min() ?? config.collector.collector.pollInterval
            let interval = fileSettings.interval ?? min(max(shortest, 1), 10)
            let sink = MetricsFileSink(path: fileSettings.path, interval: .seconds(interval), version: Self.version, commit: BuildInfo.commit,
                                       site: config.collector.site, logger: logger)
            sink.addSource(store)
            if let influxSink { sink.addSource(influxSink) }
            for remote in remoteWriteSinks { sink.addSource(remote) }
            if let mqttSink { sink.addSource(mqttSink) }
            sink.addSource(alerts)
            sink.addSource(alertNotifier)
            sink.addSource(links)
            sink.addSource(stateMonitor)
            metrics = sink
            sinks.append(sink)
            services.append(.init(service: sink, serviceName: "metrics-file"))
        }
        let s = config.collector.supervisor
        let intensity = RestartIntensity(maxRestarts: s.maxRestarts, window: .seconds(s.restartWindow),
                                         backoffInitial: .seconds(s.restartBackoff), backoffMax: .seconds(s.restartBackoffMax),
                                         failedCooldown: .seconds(s.failedCooldown))
        // Latest values and the SSE stream of the HTTP API: one more sink, never blocking a poll.
        let feed = LiveFeed()
        if config.collector.http.enabled { sinks.append(feed) }
        let fleet = Fleet(links: links, sink: TelemetryFanout(sinks), intensity: intensity, logger: logger,
                          derivedStore: store, derivedSaveInterval: config.collector.sqlite.derivedStateInterval, anomalyStore: store)
        // Live settings (PUT /api/settings, `hpmanagerctl settings set`) reach these sinks through the fleet's loop.
        let control = FleetControl(initial: config, directory: configDir, loader: loader, fleet: fleet, store: store, metrics: metrics,
                                   targets: LiveSettingsTargets(influx: influxSink, alerts: alerts, notifier: alertNotifier), logger: logger)
        let fleetService = FleetService(control: control)
        services.append(.init(service: fleetService, serviceName: "fleet"))
        // Every write (operator, cyclic refresh, scheduled job) goes through one write control; its
        // EEPROM budget, wanted values and jobs come back from the store.
        let writes: WriteControl
        do {
            writes = try await WriteControl.open(control: control, store: store, settings: config.collector.writes, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("hpmanagerd: cannot load write state from \(config.collector.sqlite.path): \(error)\n".utf8))
            throw ExitCode(73)
        }
        metrics?.addSource(writes)
        services.append(.init(service: writes, serviceName: "writes"))
        // One set of typed operations behind both transports.
        let operations = FleetOperations(control: control, store: store, links: links, version: Self.version, writes: writes)
        mqttBridge.attach(operations)
        if !config.collector.controlSocket.path.isEmpty {
            let commands = ControlCommands(operations: operations)
            var limits = ControlServer.Limits()
            limits.idleTimeout = .milliseconds(Int64(config.collector.controlSocket.idleTimeout * 1000))
            limits.maxClients = config.collector.controlSocket.maxClients
            limits.maxRequestBytes = config.collector.controlSocket.maxRequestBytes
            services.append(.init(service: ControlServer(settings: config.collector.controlSocket, limits: limits, commands: commands, logger: logger),
                                  serviceName: "control-socket"))
        }
        if config.collector.http.enabled {
            do {
                let http = try HTTPService(settings: config.collector.http, operations: operations, feed: feed, metrics: metrics, logger: logger)
                services.append(.init(service: http, serviceName: "http"))
            } catch let error as HTTPService.StartError {
                FileHandle.standardError.write(Data("hpmanagerd: \(error)\n".utf8))
                throw ExitCode(78)  // EX_CONFIG
            }
        }
        let notifier = SystemdNotifier()
        services.append(.init(service: ReloadOnSignal(fleet: fleetService, notifier: notifier, logger: logger), serviceName: "reload"))
        services.append(.init(service: SystemdService(notifier: notifier, control: control, influx: influxSink, remoteWrite: remoteWriteSinks,
                                                      mqtt: mqttSink, logger: logger),
                              serviceName: "systemd-notify"))

        logger.info("hpmanagerd starting", metadata: [
            "version": "\(Self.version)", "commit": "\(BuildInfo.commit)", "config_dir": "\(configDir)",
            "heatpumps": "\(config.devices.filter(\.enabled).count)", "metrics_file": "\(fileSettings.enabled ? fileSettings.path : "disabled")",
        ])
        var groupConfig = ServiceGroupConfiguration(services: services, logger: logger)
        groupConfig.gracefulShutdownSignals = [.sigterm, .sigint]
        groupConfig.maximumGracefulShutdownDuration = .seconds(config.collector.collector.shutdownTimeout)
        // After the graceful limit every service is cancelled; one that ignores cancellation ends the
        // process (ServiceGroup traps) instead of hanging it until systemd's SIGKILL.
        groupConfig.maximumCancellationDuration = .seconds(CollectorSettings.cancellationGrace)
        let group = ServiceGroup(configuration: groupConfig)
        do {
            try await group.run()
        } catch let error as RegistryError {
            logger.critical("runtime registry unreadable; refusing to start", metadata: ["error": "\(error)"])
            FileHandle.standardError.write(Data("hpmanagerd: \(error)\n".utf8))
            throw ExitCode(73)  // like a store that cannot be opened: never guess which devices were disabled
        }
        try? await eventLoops.shutdownGracefully()
        logger.info("hpmanagerd stopped")
    }

    /// The Influx spool: `influxdb.spool_path`, or `influx-spool.db` beside the store.
    static func spoolPath(_ c: CollectorConfig) -> String {
        c.influxdb.spoolPath.isEmpty
            ? ((c.sqlite.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("influx-spool.db")
            : c.influxdb.spoolPath
    }

    /// A remote-write spool: its `spool_path`, or `remote-write-<name>-spool.db` beside the store.
    static func remoteWriteSpoolPath(_ settings: RemoteWriteSettings, _ c: CollectorConfig) -> String {
        settings.spoolPath.isEmpty
            ? ((c.sqlite.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("remote-write-\(settings.name)-spool.db")
            : settings.spoolPath
    }

    /// The MQTT outbox: `mqtt.outbox_path`, or `mqtt-outbox.db` beside the store.
    static func mqttOutboxPath(_ c: CollectorConfig) -> String {
        c.mqtt.outboxPath.isEmpty
            ? ((c.sqlite.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("mqtt-outbox.db")
            : c.mqtt.outboxPath
    }

    /// Locks the store's directory and, when it lives elsewhere, the spool's; exits 75 if another
    /// daemon holds either, 73 if a lock cannot be created. One lock per directory inode: the same
    /// directory spelled twice (relative and absolute, through a symlink) is locked once.
    private func lockStateDirectories(_ c: CollectorConfig, logger: Logger) throws -> [StateDirectoryLock] {
        var directories = [Self.directory(of: c.sqlite.path)]
        if c.influxdb.enabled { directories.append(Self.directory(of: Self.spoolPath(c))) }
        for remote in c.remoteWrite { directories.append(Self.directory(of: Self.remoteWriteSpoolPath(remote, c))) }
        if c.mqtt.enabled { directories.append(Self.directory(of: Self.mqttOutboxPath(c))) }
        var locks: [StateDirectoryLock] = []
        for directory in directories where !locks.contains(where: { $0.guards(directory: directory) }) {
            do {
                locks.append(try StateDirectoryLock(directory: directory))
            } catch let failure as StateDirectoryLock.Failure {
                FileHandle.standardError.write(Data("hpmanagerd: \(failure)\n".utf8))
                logger.critical("cannot lock the state directory", metadata: ["path": "\(directory)", "error": "\(failure)"])
                throw ExitCode(failure.held ? 75 : 73)  // EX_TEMPFAIL / EX_CANTCREAT
            }
        }
        return locks
    }

    private static func directory(of path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : (directory as NSString).standardizingPath
    }

    private func bootstrapLogging(_ settings: LoggingSettings) throws -> (Logger, LineLogHandler.Destination) {
        let levelName = logLevel.flatMap { $0.isEmpty ? nil : $0.lowercased() } ?? settings.level
        let level = Logger.Level(rawValue: levelName == "warn" ? "warning" : levelName) ?? .info
        let destination = try LineLogHandler.Destination(path: settings.file.isEmpty ? nil : settings.file)
        let format: LineLogHandler.Format = settings.format == .json ? .json : .text
        LoggingSystem.bootstrap { label in
            LineLogHandler(label: label, format: format, destination: destination, logLevel: level)
        }
        return (Logger(label: "hpmanagerd"), destination)
    }

    /// Every TCP link needs a descriptor: lift the soft limit to the hard limit.
    private func raiseFileLimit(logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        let before = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            logger.debug("raised RLIMIT_NOFILE", metadata: ["from": "\(before)", "to": "\(limit.rlim_cur)"])
        }
    }
}
