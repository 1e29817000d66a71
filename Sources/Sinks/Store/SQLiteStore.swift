import BlockingIO
import DequeModule
import Foundation
import HPCore
import Logging
import ServiceLifecycle
import SQLiteKit
import Synchronization

/// The embedded store: device registry, events, alerts, write audit and reading history in one
/// SQLite database (WAL, busy timeout, migrations by `user_version`, statements prepared once).
///
/// Callers never block: everything is queued in a bounded inbox (at capacity the oldest reading is
/// dropped and counted) and
/// written in one transaction per flush on the store's own thread. A flush that fails (disk full, I/O
/// error, a lock held too long) puts its rows back at the front of the inbox for the next flush; a row
/// SQLite refuses for what it is (too big, a constraint) is counted and skipped, never retried. Old
/// readings are pruned a slice at a time so pruning never stalls writes.
public final class SQLiteStore: TelemetrySink, Service, DaemonMetricsSource {
    enum Item {
        case reading(id: String, at: Double, data: String)
        case event(StoredEvent)
        case alertRaised(rule: String, id: String, severity: String, at: Double, value: Double?, message: String)
        case alertResolved(rule: String, id: String, at: Double)
        case anomalyModel(id: String, at: Double, state: [UInt8])
        case derivedState(StoredDerivedState)
    }

    struct Counters {
        var dropped = 0
        var written = 0
        /// Rows SQLite refused for what they are (too big, a constraint): never retried.
        var rejected = 0
        var pruned = 0
        var flushErrors = 0
        /// The current failure episode: logged when it starts and when a flush succeeds again.
        var failingSince: Double?
        var episodeErrors = 0
        /// While failing, the periodic flush waits until then (1 s doubling to 30 s), so a full disk is
        /// not hammered with the whole inbox every second. Queries still flush first, always.
        var retryAt: Double?
    }

    /// The connection, confined to `strand`.
    final class Connection: @unchecked Sendable {
        var db: SQLiteDatabase?
    }

    public let path: String
    public let retention: Double
    public let inboxCapacity: Int
    private let flushInterval: Duration
    let logger: Logger
    private let inbox = Mutex(Deque<Item>())
    private let counters = Mutex(Counters())
    private let lastUp = Mutex<[String: Bool]>([:])
    private let pool = IOThreadPool(maxThreads: 1, name: "hpm-sqlite")
    private let strand: IOStrand
    private let connection = Connection()

    public init(path: String, retention: Double, flushInterval: Double = 1, inboxCapacity: Int = 100_000, logger: Logger) {
        self.path = path
        self.retention = retention
        self.flushInterval = .seconds(flushInterval)
        self.inboxCapacity = inboxCapacity
        var logger = logger
        logger[metadataKey: "sink"] = "sqlite"
        self.logger = logger
        strand = IOStrand(pool: pool)
    }

    /// Opens and migrates the database (call before `run`, so start-up fails loudly on a bad path).
    public func open() async throws {
        try await strand.runIgnoringCancellation { [self] in
            let db = try SQLiteDatabase(path: path)
            try db.migrate(StoreSchema.migrations)
            try Self.pruneAnomalyModels(db, now: Date().timeIntervalSince1970)
            connection.db = db
        }
    }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        let id = report.device.id
        let wasUp = lastUp.withLock { $0.updateValue(report.status.up, forKey: id) }
        if wasUp != report.status.up {
            let kind = report.status.up ? "device_up" : "device_down"
            enqueue(.event(StoredEvent(at: report.timestamp, heatpumpID: id, kind: kind, message: report.status.up ? "" : report.status.lastError ?? "")))
        }
        guard retention > 0, report.status.up, !report.samples.isEmpty else { return }
        enqueue(.reading(id: id, at: report.timestamp, data: ReadingJSON.encode(report.samples)))
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {
        let now = Date().timeIntervalSince1970
        switch status.state {
        case .restarting: enqueue(.event(StoredEvent(at: now, heatpumpID: device.id, kind: "restart", message: "restart #\(status.restartsTotal)")))
        case .failed: enqueue(.event(StoredEvent(at: now, heatpumpID: device.id, kind: "failed", message: status.lastError ?? "")))
        case .misconfigured: enqueue(.event(StoredEvent(at: now, heatpumpID: device.id, kind: "misconfigured", message: status.lastError ?? "")))
        default: break
        }
    }

    public func deviceRemoved(_ id: String) {
        lastUp.withLock { _ = $0.removeValue(forKey: id) }
        enqueue(.event(StoredEvent(at: Date().timeIntervalSince1970, heatpumpID: id, kind: "device_stopped", message: "stopped and its series forgotten (removed, disabled or relabelled)")))
    }

    /// Records a daemon-level or device event (config applied/rejected, writes, …).
    public func recordEvent(kind: String, heatpumpID: String? = nil, message: String = "") {
        enqueue(.event(StoredEvent(at: Date().timeIntervalSince1970, heatpumpID: heatpumpID, kind: kind, message: message)))
    }

    public func recordAlertRaised(rule: String, heatpumpID: String, severity: String, at: Double, value: Double?, message: String) {
        enqueue(.alertRaised(rule: rule, id: heatpumpID, severity: severity, at: at, value: value, message: message))
    }

    public func recordAlertResolved(rule: String, heatpumpID: String, at: Double) {
        enqueue(.alertResolved(rule: rule, id: heatpumpID, at: at))
    }

    func enqueueAnomalyModel(_ id: String, at: Double, state: [UInt8]) {
        enqueue(.anomalyModel(id: id, at: at, state: state))
    }

    /// Queues a row; at capacity the oldest reading makes room (as Telegraf's buffer drops its oldest
    /// metrics), or the oldest row when only events and alerts are queued. Drops are counted.
    func enqueue(_ item: Item) {
        let dropped = inbox.withLock { queue -> Int in
            queue.append(item)
            return Self.trim(&queue, to: inboxCapacity)
        }
        if dropped > 0 { counters.withLock { $0.dropped += dropped } }
    }

    /// Removes rows over `capacity`, the oldest readings first, then the oldest rows; returns how many.
    static func trim(_ queue: inout Deque<Item>, to capacity: Int) -> Int {
        let total = queue.count - capacity
        guard total > 0 else { return 0 }
        if total == 1 {
            if let i = queue.firstIndex(where: { if case .reading = $0 { true } else { false } }) { queue.remove(at: i) } else { queue.removeFirst() }
            return 1
        }
        var excess = total
        var kept = Deque<Item>()
        kept.reserveCapacity(capacity)
        for item in queue {
            if excess > 0, case .reading = item { excess -= 1 } else { kept.append(item) }
        }
        if excess > 0 { kept.removeFirst(excess) }
        queue = kept
        return total
    }

    // MARK: Service

    public func run() async throws {
        defer { pool.shutdown() }
        if connection.db == nil { try await open() }
        do {
            try await cancelWhenGracefulShutdown {
                var sincePrune = Duration.seconds(10)  // prune once right after start, then every 10 s
                while true {
                    try await Task.sleep(for: self.flushInterval)
                    sincePrune += self.flushInterval
                    let prune = sincePrune >= .seconds(10)
                    if prune { sincePrune = .zero }
                    let waiting = self.counters.withLock { c in c.retryAt.map { Date().timeIntervalSince1970 < $0 } ?? false }
                    if !waiting { try await self.strand.run { self.flush(prune: prune) } }
                }
            }
        } catch is CancellationError {}
        // Runs even in a cancelled task: what is queued must reach the database.
        try await strand.runIgnoringCancellation { [self] in
            flush(prune: false)
            connection.db = nil  // closes the database (WAL checkpoint on close)
        }
    }

    /// Writes everything queued in one transaction; optionally prunes a slice of old readings.
    ///
    /// If the transaction fails its rows go back to the front of the inbox, in order, so nothing is
    /// lost to a passing fault; while the inbox is over capacity the oldest readings make room first
    /// (events and alerts are kept longest), and every row given up is counted as dropped.
    func flush(prune: Bool) {
        guard let db = connection.db else { return }
        // While writes fail, a flush only probes with the oldest rows: queries flush first, and a
        // fleet of device actors restoring their state during a full disk must not each retry the
        // whole inbox. The first probe that succeeds ends the episode and writes the rest at once.
        let probing = counters.withLock { $0.failingSince != nil }
        let items = inbox.withLock { queue -> [Item] in
            let count = probing ? min(queue.count, Self.probeRows) : queue.count
            let taken = Array(queue.prefix(count))
            if count == queue.count { queue.removeAll(keepingCapacity: true) } else { queue.removeFirst(count) }
            return taken
        }
        do {
            if !items.isEmpty {
                var refused: [SQLiteError] = []
                try db.transaction {
                    for item in items {
                        // A refused row fails only its own statement; the transaction goes on.
                        do { try write(item, db: db) } catch let error as SQLiteError where error.rejectsRow { refused.append(error) }
                    }
                }
                counters.withLock {
                    $0.written += items.count - refused.count
                    $0.rejected += refused.count
                }
                if let first = refused.first {
                    logger.error("SQLite refused rows; they are skipped", metadata: ["path": "\(path)", "rows": "\(refused.count)", "error": "\(first)"])
                }
            }
        } catch {
            requeue(items)
            recordFailure(error, items: items.count)
            return
        }
        do {
            if prune {
                try db.run("DELETE FROM readings WHERE rowid IN (SELECT rowid FROM readings WHERE at < ?1 LIMIT 20000)",
                           [.real(Date().timeIntervalSince1970 - retention)])
                let removed = db.changes
                counters.withLock { $0.pruned += removed }
            }
        } catch {
            recordFailure(error, items: 0)
            return
        }
        let ended = counters.withLock { c -> (since: Double, errors: Int)? in
            defer { c.failingSince = nil; c.episodeErrors = 0; c.retryAt = nil }
            return c.failingSince.map { ($0, c.episodeErrors) }
        }
        if let ended {
            logger.notice("SQLite writes succeed again", metadata: [
                "path": "\(path)", "failed_flushes": "\(ended.errors)",
                "outage_seconds": "\(Int((Date().timeIntervalSince1970 - ended.since).rounded()))",
            ])
        }
        if probing && !inbox.withLock({ $0.isEmpty }) { flush(prune: false) }
    }

    /// Rows a flush tries while writes are failing (see `flush`).
    static let probeRows = 500

    /// Puts the rows of a failed flush back before anything queued since, within `inboxCapacity`.
    private func requeue(_ items: [Item]) {
        guard !items.isEmpty else { return }
        let dropped = inbox.withLock { queue -> Int in
            queue.prepend(contentsOf: items)
            return Self.trim(&queue, to: inboxCapacity)
        }
        if dropped > 0 { counters.withLock { $0.dropped += dropped } }
    }

    /// One error line per failure episode (a full disk fails every flush), not per flush.
    private func recordFailure(_ error: any Error, items: Int) {
        let started = counters.withLock { c -> Bool in
            c.flushErrors += 1
            c.episodeErrors += 1
            c.retryAt = Date().timeIntervalSince1970 + min(30, pow(2, Double(min(c.episodeErrors, 6) - 1)))
            guard c.failingSince == nil else { return false }
            c.failingSince = Date().timeIntervalSince1970
            return true
        }
        if started {
            logger.error("SQLite write failed; rows kept for the next flush", metadata: ["path": "\(path)", "error": "\(error)", "items": "\(items)"])
        }
    }

    private func write(_ item: Item, db: SQLiteDatabase) throws {
        switch item {
        case .reading(let id, let at, let data):
            try db.run("INSERT INTO readings (heatpump_id, at, data) VALUES (?1, ?2, ?3)", [.text(id), .real(at), .text(data)])
        case .event(let e):
            try db.run("INSERT INTO events (at, heatpump_id, kind, message) VALUES (?1, ?2, ?3, ?4)",
                       [.real(e.at), SQLiteValue(e.heatpumpID), .text(e.kind), .text(e.message)])
        case .alertRaised(let rule, let id, let severity, let at, let value, let message):
            try db.run("INSERT INTO alerts (rule, heatpump_id, severity, raised_at, value, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                       [.text(rule), .text(id), .text(severity), .real(at), SQLiteValue(value), .text(message)])
        case .alertResolved(let rule, let id, let at):
            try db.run("UPDATE alerts SET resolved_at = ?3 WHERE rule = ?1 AND heatpump_id = ?2 AND resolved_at IS NULL",
                       [.text(rule), .text(id), .real(at)])
        case .anomalyModel(let id, let at, let state):
            try db.run("INSERT INTO anomaly_models (heatpump_id, saved_at, state) VALUES (?1, ?2, ?3) ON CONFLICT(heatpump_id) DO UPDATE SET saved_at = ?2, state = ?3",
                       [.text(id), .real(at), .blob(state)])
        case .derivedState(let state):
            try writeDerivedState(state, db: db)
        }
    }

    // MARK: Queries (run on the store's thread; pending writes are flushed first)

    /// Runs `body` with the database on the store's thread, after flushing queued writes.
    func onStore<T: Sendable>(_ body: @escaping @Sendable (SQLiteDatabase) throws -> T) async throws -> T {
        try await strand.run { [self] in
            flush(prune: false)
            guard let db = connection.db else { throw SQLiteError(code: 21, message: "store is closed") }
            return try body(db)
        }
    }

    public func events(heatpumpID: String? = nil, since: Double = 0, limit: Int = 1000) async throws -> [StoredEvent] {
        try await strand.run { [self] in
            flush(prune: false)
            guard let db = connection.db else { return [] }
            let rows = try db.query("""
                SELECT at, heatpump_id, kind, message FROM events
                WHERE (?1 IS NULL OR heatpump_id = ?1) AND at >= ?2 ORDER BY id DESC LIMIT ?3
                """, [SQLiteValue(heatpumpID), .real(since), .integer(Int64(limit))])
            return rows.reversed().map { StoredEvent(at: $0[0].double ?? 0, heatpumpID: $0[1].string, kind: $0[2].string ?? "", message: $0[3].string ?? "") }
        }
    }

    public func alerts(heatpumpID: String? = nil, activeOnly: Bool = false) async throws -> [StoredAlert] {
        try await strand.run { [self] in
            flush(prune: false)
            guard let db = connection.db else { return [] }
            let rows = try db.query("""
                SELECT rule, heatpump_id, severity, raised_at, resolved_at, value, message FROM alerts
                WHERE (?1 IS NULL OR heatpump_id = ?1) AND (?2 = 0 OR resolved_at IS NULL) ORDER BY id
                """, [SQLiteValue(heatpumpID), .integer(activeOnly ? 1 : 0)])
            return rows.map {
                StoredAlert(rule: $0[0].string ?? "", heatpumpID: $0[1].string ?? "", severity: $0[2].string ?? "",
                            raisedAt: $0[3].double ?? 0, resolvedAt: $0[4].double, value: $0[5].double, message: $0[6].string ?? "")
            }
        }
    }

    public func history(heatpumpID: String, register: String, since: Double = 0, limit: Int = 10_000) async throws -> [HistoryPoint] {
        try await strand.run { [self] in
            flush(prune: false)
            guard let db = connection.db else { return [] }
            let rows = try db.query("""
                SELECT at, json_extract(data, '$.' || ?2) FROM readings
                WHERE heatpump_id = ?1 AND at >= ?3 AND json_extract(data, '$.' || ?2) IS NOT NULL ORDER BY at LIMIT ?4
                """, [.text(heatpumpID), .text("\"\(register)\""), .real(since), .integer(Int64(limit))])
            return rows.compactMap { row in row[1].double.map { HistoryPoint(at: row[0].double ?? 0, value: $0) } }
        }
    }

    // MARK: Metrics

    public func daemonMetrics() -> [DaemonMetric] {
        let c = counters.withLock { $0 }
        let depth = inbox.withLock { $0.count }
        let sink = [("sink", "sqlite")]
        return [
            DaemonMetric("hpmanager_sink_queue_depth", help: "Points waiting in a sink's in-memory inbox.", labels: sink, value: Double(depth)),
            DaemonMetric("hpmanager_sink_queue_capacity", help: "Capacity of a sink's in-memory inbox.", labels: sink, value: Double(inboxCapacity)),
            DaemonMetric("hpmanager_sink_dropped_total", help: "Points a sink dropped (inbox full or spool over its bound).", kind: .counter, labels: sink, value: Double(c.dropped)),
            DaemonMetric("hpmanager_sqlite_rows_written_total", help: "Rows the SQLite store wrote.", kind: .counter, value: Double(c.written)),
            DaemonMetric("hpmanager_sqlite_readings_pruned_total", help: "Readings removed after sqlite.readings_retention.", kind: .counter, value: Double(c.pruned)),
            DaemonMetric("hpmanager_sqlite_write_errors_total", help: "Failed SQLite flushes (their rows are kept and written by a later flush).", kind: .counter,
                         value: Double(c.flushErrors)),
            DaemonMetric("hpmanager_sqlite_rows_rejected_total", help: "Rows SQLite refused for their content (too big, a constraint); skipped.", kind: .counter,
                         value: Double(c.rejected)),
        ]
    }
}
