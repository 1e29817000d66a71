import DeviceActor
import HPCore
import Logging

/// The set of running devices: turns a configuration into supervised device actors and applies
/// later configurations as a diff (start added, stop removed, restart changed, keep the rest).
///
/// Changes come only from `FleetControl`'s command loop (one at a time), so `running`, the boards
/// and the link references never see two applies interleave.
public actor Fleet {
    private let supervisor: Supervisor
    private let links: LinkRegistry
    private let sink: any TelemetrySink
    /// Where device actors keep their anomaly models across restarts (the SQLite store).
    private let anomalyStore: (any AnomalyModelStore)?
    private let logger: Logger
    private var running: [String: DeviceRuntime] = [:]
    private var boards: [String: DeviceStatusBoard] = [:]
    private var shownUnloadable: Set<String> = []
    private let actors = DeviceDirectory<DeviceActor>()
    /// Device actors currently inside `run()`, per id.
    nonisolated let census = ActorCensus()

    /// - Parameters:
    ///   - derivedStore: keeps each device's derived-metric state across restarts, saved every
    ///     `derivedSaveInterval` seconds of polling and when a device stops.
    ///   - anomalyStore: keeps each device's anomaly model across restarts.
    public init(links: LinkRegistry, sink: any TelemetrySink, intensity: RestartIntensity, logger: Logger,
                derivedStore: (any DerivedStateStore)? = nil, derivedSaveInterval: Double = DeviceActor.defaultDerivedSaveInterval,
                anomalyStore: (any AnomalyModelStore)? = nil) {
        self.derivedStore = derivedStore
        self.derivedSaveInterval = derivedSaveInterval
        self.links = links
        self.sink = sink
        self.anomalyStore = anomalyStore
        self.logger = logger
        let events = FleetEvents(sink: sink, logger: logger)
        supervisor = Supervisor(intensity: intensity, onEvent: { events.handle($0) })
        self.events = events
    }

    private let events: FleetEvents
    private let derivedStore: (any DerivedStateStore)?
    private let derivedSaveInterval: Double

    /// Status boards of running devices (read without touching the actors).
    public var statusBoards: [String: DeviceStatusBoard] { boards }

    /// The desired runtime of every enabled device in `config`.
    public static func desired(_ config: Configuration) -> [String: DeviceRuntime] {
        let polling = PollingSettings(config.collector.collector)
        var result: [String: DeviceRuntime] = [:]
        for device in config.devices where device.enabled {
            guard let model = config.model(for: device) else { continue }
            result[device.id] = DeviceRuntime(device: device, model: model, polling: polling)
        }
        return result
    }

    /// Applies `config`; `unloadable` devices are shown as failed with their error, never started.
    @discardableResult
    func apply(_ config: Configuration, unloadable: [String: UnloadableDevice] = [:]) async -> ConfigDiff {
        let desired = Self.desired(config)
        let diff = ConfigDiff.compute(running: running, desired: desired)
        for id in shownUnloadable where unloadable[id] == nil {
            boards[id] = nil
            events.boards.remove(id)
            sink.deviceRemoved(id)
        }
        shownUnloadable = []
        await supervisor.stop(diff.removed + diff.changed)
        for id in diff.removed {
            if let old = running.removeValue(forKey: id) { links.release(old.device.modbus.endpoint) }
            boards[id] = nil
            actors.remove(id)
            events.boards.remove(id)
            sink.deviceRemoved(id)
        }
        for id in diff.changed {
            guard let runtime = desired[id], let old = running[id] else { continue }
            // Acquire before release so a link shared with unchanged devices stays open.
            let link = links.acquire(runtime.device.modbus.endpoint)
            links.release(old.device.modbus.endpoint)
            if old.labels != runtime.labels { sink.deviceRemoved(id) }
            running[id] = runtime
            await start(runtime, link: link)
        }
        for id in diff.added {
            guard let runtime = desired[id] else { continue }
            running[id] = runtime
            await start(runtime, link: links.acquire(runtime.device.modbus.endpoint))
        }
        for (id, device) in unloadable where running[id] == nil {
            let board = boards[id] ?? DeviceStatusBoard()
            boards[id] = board
            let status = board.update { $0.state = .failed; $0.up = false; $0.lastError = device.error }
            sink.deviceStatusChanged(device.labels, status)
            shownUnloadable.insert(id)
        }
        logger.info("configuration applied", metadata: [
            "added": "\(diff.added.count)", "removed": "\(diff.removed.count)",
            "changed": "\(diff.changed.count)", "unchanged": "\(diff.unchanged.count)",
        ])
        return diff
    }

    private func start(_ runtime: DeviceRuntime, link: ModbusLink) async {
        let id = runtime.device.id
        let board = boards[id] ?? DeviceStatusBoard()
        boards[id] = board
        events.boards.set(id, BoardEntry(board: board, labels: runtime.labels))
        let sink = self.sink
        let logger = self.logger
        let anomalyStore = self.anomalyStore
        let actors = self.actors
        let census = self.census
        let derivedStore = self.derivedStore
        let derivedSaveInterval = self.derivedSaveInterval
        await supervisor.start(ChildSpec(id: id, restart: .permanent) {
            let actor = DeviceActor(runtime: runtime, link: link, sink: sink, board: board, logger: logger,
                                    derivedStore: derivedStore, derivedSaveInterval: derivedSaveInterval, anomalyStore: anomalyStore)
            actors.set(id, actor)
            census.entered(id)
            defer { census.left(id) }
            try await actor.run()
        })
    }

    /// The running actor of a device (for operator reads and writes).
    public func actor(for id: String) -> DeviceActor? {
        actors.get(id)
    }

    /// Stops every device (daemon shutdown).
    func stopAll() async {
        await supervisor.stopAll()
        for (id, runtime) in running {
            links.release(runtime.device.modbus.endpoint)
            actors.remove(id)
        }
        running.removeAll()
    }

    /// Ids of the supervised children (for tests: must equal `runningIDs`).
    var supervisorChildIDs: [String] { get async { await supervisor.childIDs } }

    /// Ids of the devices with a started actor (for status and tests).
    public var runningIDs: [String] { running.keys.sorted() }
}
