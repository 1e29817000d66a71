import Drivers
import Foundation
import HPCore
import Insight
import Logging
import ModbusKit
import NIOCore

/// Polls one heat pump forever: its own schedule, backoff, error counter and quarantine.
///
/// The actor runs on its link's event loop (its executor), so requests, deadlines and its poll timer
/// are events on that loop: waiting for a device costs no thread, and the timer is one entry in the
/// loop's timer heap, not a sleeping thread. It throws only for unexpected faults, which the
/// supervisor answers with a restart.
///
/// Bulkheads: a device that stopped answering is probed (one one-register read with a short deadline)
/// at its backoff pace and polled in full only once it answers again; on a shared gateway a timeout is
/// never retried within the poll, so a dark unit costs its neighbours at most one deadline per poll.
public actor DeviceActor {
    /// Deadline of a probe of a device that is not answering (capped by its own timeout).
    public static let probeTimeout = 2.0

    public nonisolated let runtime: DeviceRuntime
    public nonisolated let board: DeviceStatusBoard
    let link: ModbusLink
    /// The EEPROM budget when a caller brings no shared ledger (direct use, tests): in memory only.
    let localLedger = WriteLedger(budget: EEPROMBudget())
    private let sink: any TelemetrySink
    let logger: Logger
    private let clock = ContinuousClock()
    public nonisolated var unownedExecutor: UnownedSerialExecutor { link.unownedExecutor }
    private var machine: PollStateMachine
    private var quarantine = QuarantineBook()
    private var plan: [ReadRequest] = []
    private var plannedExclusions: Set<Int>?
    private var failingSince: Double?
    /// Readable registers a poll reads; when all of them are quarantined the device is misconfigured.
    private let readableCount: Int
    /// The model's read facts, flat, built once for the actor's life (its runtime never changes).
    let readTable: RegisterReadTable
    private var misconfigured = false
    /// COP, SCOP, compressor cycles and defrost of this device, fed by each successful poll (`derived:` of the model).
    var derived: DerivedMetrics
    /// Where `derived` is saved across restarts (nil: kept in memory only), and how often.
    let derivedStore: (any DerivedStateStore)?
    let derivedSaveInterval: Double
    /// Wall-clock time of the last save, and whether a poll changed the state since.
    var derivedSavedAt = 0.0
    var derivedUnsaved = false
    /// Anomaly detector (`derived: anomaly:`) and where its learnt state persists (DeviceActor+Anomaly).
    var anomaly: AnomalyDetector?
    let anomalyStore: (any AnomalyModelStore)?
    /// The sleeping poll (or retry) wait, the instant it ends and its generation (see `sleep(until:)`).
    private var sleeper: UnsafeContinuation<Void, any Error>?
    private var sleepInstant: ContinuousClock.Instant?
    private var sleepGeneration: UInt64 = 0

    /// - Parameters:
    ///   - derivedStore: keeps the derived metrics' state (counters, SCOP sums, cycles) across restarts,
    ///     saved every `derivedSaveInterval` seconds of polling and when the actor stops.
    ///   - anomalyStore: keeps the anomaly detector's learnt baselines across restarts.
    public init(runtime: DeviceRuntime, link: ModbusLink, sink: any TelemetrySink, board: DeviceStatusBoard, logger: Logger,
                derivedStore: (any DerivedStateStore)? = nil, derivedSaveInterval: Double = DeviceActor.defaultDerivedSaveInterval,
                anomalyStore: (any AnomalyModelStore)? = nil) {
        self.runtime = runtime
        self.derivedStore = derivedStore
        self.derivedSaveInterval = derivedSaveInterval
        self.anomalyStore = anomalyStore
        anomaly = AnomalyDetector(model: runtime.model)
        self.link = link
        self.sink = sink
        self.board = board
        var logger = logger
        logger[metadataKey: "heatpump_id"] = "\(runtime.device.id)"
        logger[metadataKey: "address"] = "\(runtime.device.modbus.endpoint)"
        logger[metadataKey: "unit_id"] = "\(runtime.device.modbus.unitID)"
        self.logger = logger
        readableCount = runtime.model.polledRegisters.filter { $0.access.isReadable }.count
        readTable = RegisterReadTable(runtime.model.registers)
        derived = DerivedMetrics(inputs: runtime.model.derived)
        let interval = Duration.seconds(runtime.device.pollInterval)
        machine = PollStateMachine(
            start: ContinuousClock.now,
            offset: PollStateMachine.spreadOffset(id: runtime.device.id, interval: interval),
            interval: interval,
            backoff: Backoff(initial: .seconds(runtime.polling.backoffInitial), cap: .seconds(runtime.polling.backoffMax))
        )
    }

    /// Polls until cancelled, entirely on the link's event loop.
    public nonisolated func run() async throws {
        try await withTaskExecutorPreference(link.taskExecutor) {
            try await self.pollForever()
        }
    }

    private func pollForever() async throws {
        let status = board.update {
            $0.state = .connecting
            $0.link = runtime.device.modbus.endpoint.description
            $0.pollInterval = runtime.device.pollInterval
            $0.backoff = nil
        }
        sink.deviceStatusChanged(runtime.labels, status)
        let id = runtime.device.id
        defer {
            link.forget(device: id)
            saveAnomalyModel(at: Date().timeIntervalSince1970)
        }
        await restoreDerivedState()
        await loadAnomalyModel()
        var due = machine.due
        do {
            while true {
                try await sleep(until: PollTick.coalesced(due, interval: runtime.device.pollInterval))
                due = try await pollOnce(due: due)
            }
        } catch {
            // Stopped (shutdown, reload) or failed (the supervisor restarts it): the next actor continues from here.
            saveDerivedState(at: Date().timeIntervalSince1970)
            throw error
        }
    }

    /// Waits on the link's event loop, with every device of the loop due at the same instant (one entry
    /// in the loop's timer heap per instant, `LoopTimers`); ended at once when the actor's task is cancelled.
    private func sleep(until deadline: ContinuousClock.Instant) async throws {
        try Task.checkCancellation()
        guard deadline > clock.now else { return }
        sleepGeneration &+= 1
        let generation = sleepGeneration
        let loop = link.loop
        let timers = link.timers
        try await withTaskCancellationHandler { [self] in
            // Unchecked continuation: it is resumed exactly once, by whoever takes it out of `sleeper`
            // (the timer, a cancel or the loop's shutdown), all on this actor's loop.
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                do {
                    // The timers share this actor's executor (the link's loop): a synchronous call.
                    try timers.assumeIsolated { try $0.add(LoopTimers.Waiter(device: self, generation: generation), at: deadline) }
                    sleepInstant = deadline
                    sleeper = continuation
                } catch {
                    continuation.resume(throwing: CancellationError())  // the loop is shutting down
                }
            }
        } onCancel: {
            loop.execute { self.assumeIsolated { $0.timerCancelled(generation, cancelTimer: true) } }
        }
    }

    func timerFired(_ generation: UInt64) {
        guard generation == sleepGeneration, let continuation = sleeper else { return }
        sleeper = nil
        sleepInstant = nil
        continuation.resume()
    }

    func timerCancelled(_ generation: UInt64, cancelTimer: Bool = false) {
        guard generation == sleepGeneration, let continuation = sleeper else { return }
        sleeper = nil
        // Removing the last waiter of an instant cancels its callback, and cancelling calls
        // `didCancelScheduledCallback` under the loop's lock: the sleep is already over then, and it
        // must be, as resuming a task takes that lock too.
        if cancelTimer, let instant = sleepInstant {
            link.timers.assumeIsolated { $0.remove(device: self, generation: generation, at: instant) }
        }
        sleepInstant = nil
        continuation.resume(throwing: CancellationError())
    }

    /// One poll (with the device's retries); returns when the next is due.
    private func pollOnce(due: ContinuousClock.Instant) async throws -> ContinuousClock.Instant {
        let started = clock.now
        let lag = max(0, (started - due) / .seconds(1))
        let late = machine.state == .polling && lag > runtime.device.pollInterval * 0.1
        let wallClock = Date().timeIntervalSince1970
        let registers = runtime.model.registers
        let excluded = quarantine.excluded(at: started)
        if plannedExclusions != excluded {
            plan = runtime.planner.pollPlan(runtime.model, excluded: excluded,
                                            forbidden: QuarantineBook.forbidden(excluded, registers: registers))
            plannedExclusions = excluded
        }
        let executor = PollExecutor(unitID: runtime.device.modbus.unitID, timeout: runtime.device.modbus.timeout, registers: registers, table: readTable)
        let plan = self.plan
        var outcome = PollOutcome()
        if machine.state != .polling, let failure = try await executor.probe(plan, on: link, timeout: Self.probeTimeout) {
            outcome.failure = failure  // still dark: no full poll
            outcome.requests = 1
        } else {
            var attempt = 0
            while true {
                outcome = try await executor.execute(plan, on: link)
                try Task.checkCancellation()
                guard let failure = outcome.failure, attempt < runtime.device.modbus.retries,
                      Self.isRetryable(failure, sharedLink: link.deviceCount > 1) else { break }
                attempt += 1
                logger.debug("poll attempt failed, retrying", metadata: ["attempt": "\(attempt)", "error": "\(failure)"])
                try await sleep(until: clock.now + .seconds(runtime.device.modbus.retryDelay))
            }
        }
        let finished = clock.now
        applyQuarantine(outcome, now: finished)
        let duration = (finished - started) / .seconds(1)

        if let failure = outcome.failure {
            // A failing device backs off on its own; its timeouts must not stretch its neighbours.
            link.forget(device: runtime.device.id)
            let (next, delay) = machine.pollFailed(now: finished, jitter: Double.random(in: 0..<1))
            if failingSince == nil {
                failingSince = wallClock
                logger.warning("\(Self.failureSummary(failure)); backing off", metadata: [
                    "error": "\(failure)", "cause": "\(failure.cause)", "backoff_seconds": "\(delay / .seconds(1))",
                ])
            } else {
                logger.debug("poll failed", metadata: ["error": "\(failure)", "backoff_seconds": "\(delay / .seconds(1))"])
            }
            let status = recordPoll(lag: lag, late: late, duration: duration, requests: outcome.requests) {
                $0.state = .backoff
                $0.up = false
                $0.lastError = failure.description
                $0.pollErrorsTotal += 1
                $0.backoff = delay / .seconds(1)
            }
            sink.publish(PollReport(device: runtime.labels, timestamp: wallClock, samples: [], status: status))
            return next
        }

        adaptToLinkLoad(busTime: outcome.linkTime)
        let next = machine.pollSucceeded(now: finished)
        if let since = failingSince {
            logger.info("device answering again", metadata: ["down_seconds": "\(Int(wallClock - since))"])
            failingSince = nil
        }
        let quarantined = quarantine.all.map { registers[$0].name }
        let overruns = machine.overruns
        // Everything quarantined: the device answers, but nothing of this model is there.
        let nothingReadable = outcome.samples.isEmpty && readableCount > 0 && quarantined.count >= readableCount
        let status = recordPoll(lag: lag, late: late, duration: duration, requests: outcome.requests) {
            $0.state = nothingReadable ? .misconfigured : .polling
            $0.up = !nothingReadable
            if nothingReadable { $0.lastError = Self.misconfiguredError }
            $0.lastSuccess = wallClock
            $0.quarantinedRegisters = quarantined
            $0.pollOverrunsTotal = overruns
            $0.backoff = nil
        }
        if nothingReadable != misconfigured {
            misconfigured = nothingReadable
            if nothingReadable {
                logger.error("\(Self.misconfiguredError); marked misconfigured", metadata: ["registers": "\(readableCount)"])
            } else {
                logger.info("registers answering again; no longer misconfigured")
            }
            sink.deviceStatusChanged(runtime.labels, status)
        }
        // Computed and published with no suspension in between: the state belongs to this poll only.
        var samples = outcome.samples
        if !derived.inputs.isEmpty {
            let extra = derived.observe(samples, at: wallClock)
            samples += extra
            derivedUnsaved = true
            if wallClock - derivedSavedAt >= derivedSaveInterval { saveDerivedState(at: wallClock) }
        }
        let verdict = observeAnomaly(&samples, at: wallClock)
        sink.publish(PollReport(device: runtime.labels, timestamp: wallClock, samples: samples, status: status, anomaly: verdict))
        return next
    }

    static let misconfiguredError = "every register answered Illegal Data Address: check the model, unit id and address offset"

    /// Updates the counters every poll shares, then the outcome-specific fields.
    private func recordPoll(lag: Double, late: Bool, duration: Double, requests: Int, _ outcome: (inout DeviceStatus) -> Void) -> DeviceStatus {
        board.update {
            $0.pollsTotal += 1
            $0.pollLag = lag
            if late { $0.pollsLateTotal += 1 }
            $0.pollDuration = duration
            $0.requestsPerPoll = requests
            outcome(&$0)
        }
    }

    /// On a saturated shared link (an RTU bus, a slow gateway) every device stretches its interval to
    /// the measured cycle; the first device to notice logs one warning with the cycle time.
    private func adaptToLinkLoad(busTime: Double) {
        let configured = runtime.device.pollInterval
        let report = link.recordPoll(device: runtime.device.id, busTime: busTime, interval: configured)
        let load = link.currentLoad
        let effective = load.effectiveInterval(configured: configured)
        if load.saturated {
            machine.reschedule(interval: .seconds(effective), anchor: load.epoch + .seconds(load.slot(for: runtime.device.id, interval: effective)))
        } else {
            machine.restoreSchedule()
        }
        if report.changed {
            if report.saturated {
                logger.warning("link saturated: one polling cycle over its devices takes longer than the poll interval; stretching the schedule evenly", metadata: [
                    "cycle_seconds": "\(report.cycle)", "poll_interval": "\(configured)", "effective_interval": "\(effective)",
                ])
            } else {
                logger.info("link no longer saturated; back to the configured interval", metadata: ["cycle_seconds": "\(report.cycle)"])
            }
        }
    }

    private func applyQuarantine(_ outcome: PollOutcome, now: ContinuousClock.Instant) {
        let registers = runtime.model.registers
        for index in outcome.answered { quarantine.release(index) }
        for index in outcome.rejected {
            let r = registers[index]
            if quarantine.quarantine(index, now: now, duration: .seconds(runtime.polling.quarantineRetry)) {
                logger.warning("register rejected by device (Illegal Data Address); quarantined", metadata: [
                    "register": "\(r.name)", "register_address": "\(r.address)", "retry_seconds": "\(runtime.polling.quarantineRetry)",
                ])
            }
        }
    }

    /// Timeouts and broken connections are worth another try within the poll; exceptions, refused
    /// connects and unresolvable names are not. On a shared gateway a timeout is not retried either:
    /// the retry would hold every neighbour behind another deadline.
    static func isRetryable(_ error: ModbusError, sharedLink: Bool) -> Bool {
        if error.deviceAnswered || error.isDNSFailure { return false }
        if error.isTimeout && sharedLink { return false }
        return error.code != ECONNREFUSED && error.code != EHOSTUNREACH && error.code != ENETUNREACH
    }

    /// One line an operator can act on: what went wrong, in words.
    static func failureSummary(_ error: ModbusError) -> String {
        if error.isTimeout { return "device not answering" }
        if error.isDNSFailure { return "host name does not resolve" }
        if error.isProtocolViolation { return "device sent an invalid response" }
        if error.deviceAnswered { return "device answered with a Modbus exception" }
        if error.code == ECONNREFUSED { return "connection refused" }
        return "device unreachable"
    }
}
