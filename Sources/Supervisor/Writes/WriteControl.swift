import DeviceActor
import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Sinks
import Synchronization

/// Every write the daemon makes goes through here and then through the device actor's one write
/// path: operator writes (socket, HTTP, CLI), re-sends of cyclic registers' wanted values, and
/// scheduled jobs. It owns the persisted EEPROM ledger, the wanted values and the jobs, and audits.
///
/// As a service it runs one loop that sleeps until the next refresh or job is due (at most 60 s,
/// so wall-clock jumps are noticed); `runDue(at:)` is that loop's step, driven by a given instant.
public actor WriteControl: Service, DaemonMetricsSource {
    struct Counters {
        var refreshes = 0
        var refreshFailures = 0
        var jobRuns = 0
        var jobFailures = 0
        var wanted = 0
        var jobs = 0
        /// Writes (operator, job, operation) by outcome or refusal code.
        var results: [String: Int] = [:]
    }

    /// A refresh or job that could not reach its device is tried again after this many seconds.
    public static let retryDelay = 10.0
    /// Wanted values are re-sent this long after start (the devices connect first), seconds.
    static let startupDelay = 2.0
    /// Longest sleep of the loop, seconds.
    static let maxNap = 60.0

    public nonisolated let ledger: WriteLedger
    let control: FleetControl
    let store: SQLiteStore?
    let logger: Logger
    var schedule: WriteSchedule
    private let counters = Mutex(Counters())
    private var failing: Set<WriteLedger.Key> = []
    private var wakeup: CheckedContinuation<Void, Never>?
    private var timer: Task<Void, Never>?

    public init(control: FleetControl, store: SQLiteStore?, settings: WriteSettings, history: [WriteLedger.Record] = [],
                calendar: Calendar = .current, logger: Logger) {
        self.control = control
        self.store = store
        var logger = logger
        logger[metadataKey: "component"] = "writes"
        self.logger = logger
        schedule = WriteSchedule(calendar: calendar)
        var persist: (@Sendable (WriteLedger.Record) async throws -> Void)?
        if let store {
            persist = { record in try await store.recordEEPROMWrite(heatpumpID: record.heatpumpID, register: record.register, at: record.at) }
        }
        ledger = WriteLedger(budget: EEPROMBudget(settings), history: history, persist: persist)
    }

    /// A write control with the store's state: the last 24 hours of EEPROM writes, the wanted values
    /// (re-sent right after start: the controller may have dropped them while the daemon was down) and the jobs
    /// (next firing after `now`; runs missed while down are recorded as `job_missed`, never replayed).
    public static func open(control: FleetControl, store: SQLiteStore, settings: WriteSettings, calendar: Calendar = .current,
                            logger: Logger, now: Date = Date()) async throws -> WriteControl {
        let history = try await store.eepromWrites(since: now.timeIntervalSince1970 - EEPROMBudget.window).map {
            WriteLedger.Record(heatpumpID: $0.heatpumpID, register: $0.register, at: $0.at)
        }
        let writes = WriteControl(control: control, store: store, settings: settings, history: history, calendar: calendar, logger: logger)
        await writes.load(wanted: try await store.cyclicWrites(), jobs: try await store.writeJobs(), now: now)
        return writes
    }

    private func load(wanted: [StoredCyclicWrite], jobs: [StoredWriteJob], now: Date) {
        for w in wanted {
            guard let interval = refreshInterval(w.heatpumpID, w.register) else {
                logger.warning("stored wanted value is not refreshed: the register is no longer cyclic or the heat pump is gone", metadata: [
                    "heatpump_id": "\(w.heatpumpID)", "register": "\(w.register)",
                ])
                continue
            }
            schedule.want(WriteLedger.Key(heatpumpID: w.heatpumpID, register: w.register), value: w.value, interval: interval,
                          next: now.addingTimeInterval(min(interval, Self.startupDelay)), client: w.client)
        }
        for stored in jobs {
            let schedule: JobSchedule
            do {
                schedule = try JobSchedule(days: stored.days, time: stored.time)
            } catch {
                logger.error("stored job has an unreadable schedule; skipped", metadata: ["job": "\(stored.id)", "error": "\(error)"])
                continue
            }
            let job = WriteJob(id: stored.id, heatpumpID: stored.heatpumpID, register: stored.register, value: stored.value,
                               schedule: schedule, client: stored.client, lastRun: stored.lastRun)
            if let missed = schedule.previous(atOrBefore: now, calendar: self.schedule.calendar),
               missed.timeIntervalSince1970 > (stored.lastRun ?? stored.createdAt) {
                let message = "job #\(job.id) (\(job.register) := \(job.value), \(schedule)) missed its run at \(Self.iso(missed)) while the daemon was down; not replayed"
                logger.notice("scheduled write missed while the daemon was down; not replayed", metadata: [
                    "job": "\(job.id)", "heatpump_id": "\(job.heatpumpID)", "register": "\(job.register)", "missed_at": "\(Self.iso(missed))",
                ])
                store?.recordEvent(kind: "job_missed", heatpumpID: job.heatpumpID, message: message)
            }
            self.schedule.add(job, now: now)
        }
        publishCounts()
    }

    // MARK: Writes

    /// An operator's (or a job's) write: the device actor validates, writes and reads back; the
    /// outcome is audited. A cyclic register's value is then wanted, and re-sent, until cleared.
    public func write(id: String, register: String, value: String?, client: String) async throws -> WriteReport {
        do {
            let actor = try await control.runningActor(id)
            let r = try await actor.write(register: register, value: value, ledger: ledger)
            counters.withLock { $0.results[r.outcome.rawValue, default: 0] += 1 }
            let (result, message) = Self.auditResult(r.outcome)
            let audited = await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value ?? Self.number(r.requested),
                                                      previous: r.previous.map(Self.number), readBack: r.readBack.map(Self.number),
                                                      result: result, message: message, client: client))
            var interval: Double?
            if let definition = actor.runtime.model.registers.first(where: { $0.name == register }), definition.writeClass == .cyclic,
               let refresh = definition.refreshInterval {
                interval = refresh
                await want(WriteLedger.Key(heatpumpID: id, register: register), value: value ?? Self.number(r.requested),
                           interval: refresh, client: client)
            }
            return WriteReport(heatpumpID: id, result: r, audited: audited, refreshInterval: interval)
        } catch let error as DeviceOperationError {
            counters.withLock { $0.results[error.code.rawValue, default: 0] += 1 }
            let result = error.code == .deviceError ? "failed" : "rejected"
            await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value ?? "", previous: nil, readBack: nil,
                                        result: result, message: error.message, client: client))
            throw error
        }
    }

    /// The value is wanted from now on. The write already happened: a store failure is logged (the
    /// value is still re-sent until the daemon stops), never reported as a failed write.
    private func want(_ key: WriteLedger.Key, value: String, interval: Double, client: String) async {
        let now = Date()
        schedule.want(key, value: value, interval: interval, next: now.addingTimeInterval(interval), client: client)
        do {
            try await store?.saveCyclicWrite(StoredCyclicWrite(heatpumpID: key.heatpumpID, register: key.register, value: value,
                                                               setAt: now.timeIntervalSince1970, client: client))
        } catch {
            logger.error("wanted value not stored; it is re-sent until the daemon stops, but not after a restart", metadata: [
                "heatpump_id": "\(key.heatpumpID)", "register": "\(key.register)", "error": "\(error)",
            ])
        }
        failing.remove(key)
        publishCounts()
        wake()
    }

    /// Stops re-sending a cyclic register's wanted value (the controller falls back on its own
    /// after its timeout); audited as `cleared`.
    public func clear(id: String, register: String, client: String) async throws {
        let key = WriteLedger.Key(heatpumpID: id, register: register)
        let stored = try await store?.deleteCyclicWrite(heatpumpID: id, register: register) ?? false
        let scheduled = schedule.clear(key)
        guard stored || scheduled else {
            throw ControlError("not_found", "\(id) has no wanted value for \(register) (only cyclic registers keep one)")
        }
        failing.remove(key)
        publishCounts()
        await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: "", previous: nil, readBack: nil,
                                    result: "cleared", message: "no longer re-sent", client: client))
    }

    /// Wanted values of cyclic registers and their next re-send.
    public func wanted() -> [(key: WriteLedger.Key, value: String, interval: Double, next: Double, client: String)] {
        schedule.refreshes.sorted { ($0.key.heatpumpID, $0.key.register) < ($1.key.heatpumpID, $1.key.register) }.map {
            ($0.key, $0.value.value, $0.value.interval, $0.value.next.timeIntervalSince1970, $0.value.client)
        }
    }

    // MARK: The loop

    /// Runs what is due at `now` (refreshes and jobs, concurrently); returns when the next is due.
    @discardableResult
    public func runDue(at now: Date) async -> Date? {
        let actions = schedule.due(at: now)
        await withTaskGroup(of: Void.self) { group in
            for action in actions {
                group.addTask { await self.perform(action, now: now) }
            }
        }
        return schedule.nextWake
    }

    private func perform(_ action: WriteSchedule.Action, now: Date) async {
        switch action {
        case .refresh(let key, _):
            do {
                let actor = try await control.runningActor(key.heatpumpID)
                // Re-checked after the await: cleared meanwhile, nothing to send; changed, send the new value.
                guard let value = schedule.refreshes[key]?.value else { return }
                _ = try await actor.write(register: key.register, value: value, ledger: ledger)
                counters.withLock { $0.refreshes += 1 }
                // An operator write that raced this refresh may have reached the device first: resend the newer value now.
                if let wanted = schedule.refreshes[key]?.value, wanted != value {
                    schedule.reschedule(key, next: Date())
                    wake()
                }
                if failing.remove(key) != nil {
                    logger.info("cyclic write reaches the device again", metadata: ["heatpump_id": "\(key.heatpumpID)", "register": "\(key.register)"])
                }
            } catch {
                counters.withLock { $0.refreshFailures += 1 }
                schedule.refreshFailed(key, at: now, retry: Self.retryDelay)
                let metadata: Logger.Metadata = ["heatpump_id": "\(key.heatpumpID)", "register": "\(key.register)", "error": "\(error)",
                                                 "retry_seconds": "\(Self.retryDelay)"]
                // One warning per failure episode, not one per retry.
                if failing.insert(key).inserted { logger.warning("cyclic write refresh failed; retrying", metadata: metadata) }
                else { logger.debug("cyclic write refresh failed", metadata: metadata) }
            }
        case .job(let job, let scheduledFor):
            var metadata: Logger.Metadata = ["job": "\(job.id)", "heatpump_id": "\(job.heatpumpID)", "register": "\(job.register)",
                                             "value": "\(job.value)", "scheduled_for": "\(Self.iso(scheduledFor))"]
            do {
                let report = try await write(id: job.heatpumpID, register: job.register, value: job.value, client: "job #\(job.id) (\(job.client))")
                counters.withLock { $0.jobRuns += 1 }
                metadata["outcome"] = "\(report.result.outcome.rawValue)"
                logger.info("scheduled write done", metadata: metadata)
            } catch {
                counters.withLock { $0.jobRuns += 1; $0.jobFailures += 1 }
                metadata["error"] = "\(error)"
                logger.warning("scheduled write failed", metadata: metadata)
            }
            do {
                try await store?.setWriteJobLastRun(id: job.id, at: now.timeIntervalSince1970)
            } catch {
                logger.error("job's last run not stored", metadata: ["job": "\(job.id)", "error": "\(error)"])
            }
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let next = await self.runDue(at: Date())
                let cap = Date().addingTimeInterval(Self.maxNap)
                await self.nap(until: min(next ?? cap, cap))
            }
        }
    }

    /// Sleeps until `deadline`, a schedule change (`wake`) or cancellation.
    private func nap(until deadline: Date) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                guard !Task.isCancelled, deadline > Date() else { return continuation.resume() }
                wakeup = continuation
                let delay = deadline.timeIntervalSinceNow
                timer = Task { [weak self] in
                    try? await Task.sleep(for: .seconds(delay))
                    await self?.wake()
                }
            }
        } onCancel: {
            Task { await self.wake() }
        }
    }

    func wake() {
        timer?.cancel()
        timer = nil
        let continuation = wakeup
        wakeup = nil
        continuation?.resume()
    }

    // MARK: Helpers

    private func refreshInterval(_ id: String, _ register: String) -> Double? {
        let config = control.configuration
        guard let device = config.device(id), let r = config.models[device.model]?.registers.first(where: { $0.name == register }),
              r.writeClass == .cyclic else { return nil }
        return r.refreshInterval
    }

    func publishCounts() {
        let wanted = schedule.refreshes.count, jobs = schedule.jobs.count
        counters.withLock { $0.wanted = wanted; $0.jobs = jobs }
    }

    static func auditResult(_ outcome: WriteResult.Outcome) -> (String, String) {
        switch outcome {
        case .verified: ("ok", "")
        case .unverified: ("unverified", "read-back differs")
        case .sent: ("ok", "sent; the register cannot be read back")
        case .unchanged: ("unchanged", "the device already holds this value; nothing written")
        }
    }

    static func number(_ value: Double) -> String {
        Int64(exactly: value).map(String.init) ?? "\(value)"
    }

    static func iso(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// Stores an audit row; a failure is logged with the write it concerns and reported as false.
    @discardableResult
    func audit(_ entry: WriteAuditEntry) async -> Bool {
        guard let store else { return false }
        do {
            try await store.audit(entry)
            return true
        } catch {
            logger.error("write audit not stored", metadata: [
                "heatpump_id": "\(entry.heatpumpID)", "register": "\(entry.register)", "result": "\(entry.result)", "error": "\(error)",
            ])
            return false
        }
    }

    public nonisolated func daemonMetrics() -> [DaemonMetric] {
        let c = counters.withLock { $0 }
        let outcomes = ["verified", "unverified", "sent", "unchanged", "rejected", "eeprom_budget", "unknown_register", "device_error"]
        let byResult = outcomes.map { result in
            DaemonMetric("hpmanager_writes_total", help: "Register writes asked for (operator, job, operation; not cyclic re-sends), by outcome or refusal.",
                         kind: .counter, labels: [("result", result)], value: Double(c.results[result] ?? 0))
        }
        return byResult + [
            DaemonMetric("hpmanager_cyclic_writes_wanted", help: "Cyclic registers whose value is re-sent until cleared.", value: Double(c.wanted)),
            DaemonMetric("hpmanager_cyclic_refreshes_total", help: "Re-sends of cyclic registers' wanted values that reached the device.",
                         kind: .counter, value: Double(c.refreshes)),
            DaemonMetric("hpmanager_cyclic_refresh_failures_total", help: "Re-sends of cyclic registers that failed (retried).",
                         kind: .counter, value: Double(c.refreshFailures)),
            DaemonMetric("hpmanager_write_jobs", help: "Scheduled write jobs.", value: Double(c.jobs)),
            DaemonMetric("hpmanager_write_job_runs_total", help: "Scheduled write jobs that fired.", kind: .counter, value: Double(c.jobRuns)),
            DaemonMetric("hpmanager_write_job_failures_total", help: "Scheduled write jobs whose write failed or was refused.",
                         kind: .counter, value: Double(c.jobFailures)),
        ]
    }
}
