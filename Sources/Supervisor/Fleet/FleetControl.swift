import DeviceActor
import HPCore
import Logging
import Sinks
import Synchronization

/// The single owner of "which heat pumps run": the YAML configuration, devices added at runtime
/// (SQLite), and runtime enable/disable overrides.
///
/// Every change (socket add/remove/enable/disable/update, SIGHUP and `reload`, start, shutdown) is a
/// command on one `AsyncStream`, consumed by one task (`run()`) that owns `FleetState` — the shape of
/// swift-service-lifecycle's `ServiceGroup` run loop. A command runs to its end, awaits included,
/// before the next one starts, and is answered through its continuation. Readers (`list`,
/// `status`) see the last committed `FleetView` and never wait behind a change.
///
/// Start is queued in `init`, so it is the first command whatever a client sends before the
/// service runs (a socket `add` never runs against a view without the stored runtime devices).
/// When the loop ends — after `shutdown()`, or because its task was cancelled — it stops every
/// device itself and later commands are refused with `shutting_down`.
///
/// Precedence: a device id lives either in heatpumps.yml or in the runtime registry, never both.
/// `enable`/`disable` of a YAML device is stored as an override that wins over its `enabled` key
/// (and survives restarts and reloads); `update`/`remove` only apply to runtime devices.
public final class FleetControl: Sendable {
    /// One queued change: runs with the loop's state, answers its caller itself.
    struct Command: Sendable {
        let execute: @Sendable (FleetState) async -> Void
        let reject: @Sendable (ControlError) -> Void
    }

    public let fleet: Fleet
    private let commands: AsyncStream<Command>
    private let inbox: AsyncStream<Command>.Continuation
    private let published: Mutex<FleetView>
    private let loopStarted = Mutex(false)
    /// Commands queued and not yet answered (status and tests).
    private let pending = Mutex(0)
    private let loader: ConfigLoader
    private let makeState: @Sendable (@escaping @Sendable (FleetView) -> Void) -> FleetState

    /// - Parameter targets: the sinks live settings reach (the Influx sink, the alert monitor).
    public init(initial: Configuration, directory: String, loader: ConfigLoader, fleet: Fleet, store: SQLiteStore?,
                metrics: MetricsFileSink?, targets: LiveSettingsTargets = LiveSettingsTargets(), logger: Logger) {
        self.fleet = fleet
        self.loader = loader
        (commands, inbox) = AsyncStream.makeStream(of: Command.self)
        published = Mutex(FleetView(configuration: initial))
        makeState = { onCommit in
            FleetState(initial: initial, directory: directory, loader: loader, fleet: fleet, store: store, metrics: metrics,
                       targets: targets, logger: logger, onCommit: onCommit)
        }
        // The first command; `start()` answers with its outcome.
        enqueue(Command(execute: { state in _ = try? await state.start() }, reject: { _ in }))
    }

    // MARK: The loop

    /// Consumes commands one at a time until `shutdown()`. Runs once (`FleetService` runs it).
    public func run() async {
        guard loopStarted.withLock({ started in defer { started = true }; return !started }) else { return }
        let state = makeState { [self] view in self.published.withLock { $0 = view } }
        // Ends after `shutdown()`, or when this task is cancelled (commands already queued still run).
        for await command in commands {
            await command.execute(state)
            pending.withLock { $0 -= 1 }
        }
        // Nothing may wait on a loop that is gone, and no device may outlive it: on the cancellation
        // path no shutdown command ran, so the loop stops the fleet itself (a no-op after one did).
        inbox.finish()
        await state.shutdown()
    }

    /// Commands queued and not yet answered.
    var pendingCommands: Int { pending.withLock { $0 } }

    /// Queues `body` and waits for its answer. Once the loop has ended, commands are refused at once.
    private func submit<T: Sendable>(_ body: @escaping @Sendable (FleetState) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue(Command(execute: { state in
                do { continuation.resume(returning: try await body(state)) } catch { continuation.resume(throwing: error) }
            }, reject: { continuation.resume(throwing: $0) }))
        }
    }

    private func enqueue(_ command: Command) {
        pending.withLock { $0 += 1 }
        if case .terminated = inbox.yield(command) {
            pending.withLock { $0 -= 1 }
            command.reject(ControlError("shutting_down", "the daemon is shutting down"))
        }
    }

    // MARK: Commands

    /// The outcome of applying the initial configuration (queued in `init`, so it ran first). Throws
    /// `RegistryError` when the runtime registry cannot be read (the daemon then refuses to start
    /// instead of guessing which devices were disabled).
    @discardableResult
    public func start() async throws -> ConfigDiff {
        try await submit { try await $0.start() }
    }

    /// Stops every device and ends the loop; later commands are refused with `shutting_down`.
    public func shutdown() async {
        _ = try? await submit { await $0.shutdown() }
        inbox.finish()
    }

    /// Re-reads the configuration directory and the registry; on any error nothing changes.
    public func reload() async -> Result<ConfigDiff, ControlError> {
        do {
            return try await submit { await $0.reload() }
        } catch {
            return .failure(error as? ControlError ?? ControlError("internal", "\(error)"))
        }
    }

    public func add(spec: String) async throws -> DeviceConfig {
        try await submit { try await $0.add(spec: spec) }
    }

    public func update(id: String, spec: String) async throws -> DeviceConfig {
        try await submit { try await $0.update(id: id, spec: spec) }
    }

    public func remove(id: String) async throws {
        try await submit { try await $0.remove(id: id) }
    }

    public func setEnabled(id: String, _ enabled: Bool) async throws {
        try await submit { try await $0.setEnabled(id: id, enabled) }
    }

    /// Changes live settings (all or nothing) and answers with the keys whose value changed.
    public func changeSettings(_ changes: [String: SettingChange], client: String) async throws -> [String] {
        try await submit { try await $0.changeSettings(changes, client: client) }
    }

    /// Answers once every command queued before it has run: proof that the command loop is alive
    /// (the systemd watchdog pings only while it answers).
    public func ping() async throws {
        try await submit { _ in }
    }

    // MARK: Reads (the last committed view)

    public var view: FleetView { published.withLock { $0 } }

    public var configuration: Configuration { view.configuration }

    public func source(of id: String) -> String { view.source(of: id) }

    /// Validates a device given as JSON/YAML text like a heatpumps.yml entry (models of the committed configuration).
    public func validate(spec: String) throws -> DeviceConfig {
        try FleetState.validate(spec: spec, loader: loader, configuration: configuration)
    }
}
