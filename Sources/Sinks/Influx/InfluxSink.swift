import BlockingIO
import DequeModule
import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Writes every poll to InfluxDB without ever blocking polling, and without losing points across
/// outages and restarts.
///
/// `publish` encodes one line and appends it to a bounded inbox (overflow is dropped and counted).
/// Every `batch_interval` the sender — on its own I/O thread, where libcurl and SQLite block —
/// sends the inbox in batches of `batch_size`. A batch that cannot be delivered (network error, 429,
/// 5xx) goes to the durable spool; while the spool is not empty new batches queue behind it, so
/// points arrive in order. The spool is replayed oldest-first with exponential backoff (honouring
/// Retry-After; every wait capped by `retry_interval_max`), also after a daemon restart.
///
/// A batch InfluxDB rejects is salvaged: a field type conflict named in the answer removes that
/// field (from this and every later line whose value has the refused type) and the rest is sent
/// again; other rejections are isolated line by line, and only lines nothing can be saved of go to
/// the dead-letter table. On graceful shutdown or cancellation the transfer in flight is aborted
/// and everything not yet acknowledged stays in (or moves to) the spool.
public final class InfluxSink: TelemetrySink, Service, DaemonMetricsSource {
    struct Counters {
        var inboxDropped = 0
        /// Points lost because the spool could not be written (disk full, I/O error).
        var spoolWriteDropped = 0
        var sent = 0
        var rejected = 0
        var sendFailures = 0
        var spoolBatches = 0
        var spoolPoints = 0
        var spoolBytes: Int64 = 0
        /// Points dropped by the spool's size bound (this process).
        var spoolDropped = 0
        var deadLetters = 0
        var deadLettersPruned = 0
        var fieldsDropped: [String: Int] = [:]
        var lastError = ""
    }

    /// Sender-side state, confined to `strand` (jobs there never overlap).
    final class Sender: @unchecked Sendable {
        var writer: InfluxWriter?
        var spool: LineSpool?
        var failures = 0
        var nextAttempt = Date.distantPast
        var conflicts = FieldConflictFilter()
        /// Fields whose conflict was logged (once per field and process).
        var loggedConflicts: Set<String> = []
    }

    /// Shared by the service task (sets it) and the sender's libcurl progress callback (reads it).
    final class StopFlag: Sendable {
        private let value = Atomic<Bool>(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// What became of one batch.
    enum Delivery {
        /// Written, apart from the dead letters.
        case done(deadLetters: [LineSpool.DeadLetter])
        /// Must be retried: `remaining` (in order) were not written; lines before them were, or are dead letters.
        case retry(remaining: [String], deadLetters: [LineSpool.DeadLetter])
    }

    /// What a live settings change may replace (url, org, bucket, database, token_file, batching);
    /// the spool, the inbox and the line encoding stay.
    struct Live {
        var settings: InfluxSettings
        var batchSize: Int
        var batchInterval: Duration
    }

    public var settings: InfluxSettings { live.withLock { $0.settings } }
    public var batchSize: Int { live.withLock { $0.batchSize } }
    public var batchInterval: Duration { live.withLock { $0.batchInterval } }
    private let live: Mutex<Live>
    /// Encoding settings fixed for the sink's life (a live change never alters how lines are written).
    private let encoding: InfluxSettings
    public let spoolPath: String
    public let inboxCapacity: Int
    private let precision: LineProtocol.Precision
    /// The site's `site` tag and extra labels, on every point.
    private let siteTags: [SeriesLabel]
    private let logger: Logger
    private let inbox = Mutex(Deque<String>())
    private let counters = Mutex(Counters())
    /// Set when graceful shutdown or cancellation begins: the sender stops between batches and aborts its transfer.
    private let stopping = StopFlag()
    private let pool = IOThreadPool(maxThreads: 1, name: "hpm-influx")
    private let strand: IOStrand
    private let sender = Sender()

    public init(settings: InfluxSettings, batchSize: Int, batchInterval: Double, spoolPath: String, site: SiteSettings = SiteSettings(),
                logger: Logger) {
        live = Mutex(Live(settings: settings, batchSize: max(1, batchSize), batchInterval: .seconds(batchInterval)))
        encoding = settings
        siteTags = site.seriesLabels
        self.spoolPath = spoolPath
        inboxCapacity = max(10_000, max(1, batchSize) * 20)
        precision = LineProtocol.Precision(rawValue: settings.precision) ?? .ns
        var logger = logger
        logger[metadataKey: "sink"] = "influxdb"
        self.logger = logger
        strand = IOStrand(pool: pool)
    }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        guard let line = LineProtocol.line(report, precision: precision, fieldTypes: encoding.fieldTypes,
                                           unsignedFields: encoding.version == 2, siteTags: siteTags) else { return }
        let accepted = inbox.withLock { queue -> Bool in
            guard queue.count < inboxCapacity else { return false }
            queue.append(line)
            return true
        }
        if !accepted { counters.withLock { $0.inboxDropped += 1 } }
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {}
    public func deviceRemoved(_ id: String) {}

    // MARK: Service

    public func run() async throws {
        defer { pool.shutdown() }
        // Not skipped by an early cancellation: the final persist below needs the spool.
        try await strand.runIgnoringCancellation { [self] in try openResources() }
        do {
            // Graceful shutdown and cancellation both stop the sender between batches and abort a
            // transfer or replay in flight (libcurl's progress callback reads `stopping`).
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await cancelWhenGracefulShutdown {
                        while true {
                            try await Task.sleep(for: self.batchInterval)
                            try await self.strand.run { self.cycle(now: Date()) }
                        }
                    }
                } onGracefulShutdown: { [stopping] in
                    stopping.set()
                }
            } onCancel: { [stopping] in
                stopping.set()
            }
        } catch is CancellationError {
            // fall through: keep what is queued
        }
        stopping.set()
        // Runs even in a cancelled task: the inbox must reach the spool before the process exits.
        try await strand.runIgnoringCancellation { [self] in persistInbox() }
    }

    private var isStopping: Bool { stopping.isSet }

    /// Points the sink at a new destination or batching (a live settings change) without a restart:
    /// only the writer is replaced, on the sender's strand between two rounds, so the durable spool
    /// and the inbox carry over and are delivered, in order and once, to the new destination. The
    /// retry backoff of the old destination is forgotten and one round runs at once. Throws (and
    /// changes nothing) when the new writer cannot be made, e.g. an unreadable `token_file`.
    public func reconfigure(_ settings: InfluxSettings, batchSize: Int, batchInterval: Double) async throws {
        try await strand.run { [self] in
            let writer = try InfluxWriter(settings: settings, shouldAbort: { [stopping] in stopping.isSet })
            live.withLock { $0 = Live(settings: settings, batchSize: max(1, batchSize), batchInterval: .seconds(batchInterval)) }
            guard sender.spool != nil else { return }  // not open yet: `openResources` makes its writer from `live`
            sender.writer = writer
            sender.failures = 0
            sender.nextAttempt = .distantPast
            logger.info("InfluxDB settings changed live; the spool carries over", metadata: [
                "batch_size": "\(max(1, batchSize))", "batch_interval": "\(batchInterval)",
            ])
            if !isStopping { cycle(now: Date()) }
        }
    }

    private func openResources() throws {
        let settings = self.settings
        sender.spool = try LineSpool(path: spoolPath, limits: .init(maxBytes: Int64(settings.spoolMaxMB) * 1_048_576,
                                                                      deadLetterRetention: settings.deadLetterRetention,
                                                                      deadLetterMax: settings.deadLetterMax))
        sender.writer = try InfluxWriter(settings: settings, shouldAbort: { [stopping] in stopping.isSet })
        if let spool = sender.spool, !spool.isEmpty {
            logger.info("replaying spooled points", metadata: ["points": "\(spool.points)", "batches": "\(spool.batches)"])
        }
        publishSpoolCounters()
    }

    /// One sender round: move the inbox out in batches, deliver directly or via the spool.
    func cycle(now: Date) {
        guard let spool = sender.spool, let writer = sender.writer else { return }
        let batchSize = self.batchSize
        let lines = inbox.withLock { queue -> [String] in
            let all = Array(queue)
            queue.removeAll(keepingCapacity: true)
            return all
        }
        var batches = stride(from: 0, to: lines.count, by: batchSize).map { Array(lines[$0..<min($0 + batchSize, lines.count)]) }[...]
        // Direct path only while nothing older waits in the spool (keeps order).
        while spool.isEmpty, now >= sender.nextAttempt, !isStopping, let batch = batches.first {
            batches = batches.dropFirst()
            switch deliver(batch, writer: writer) {
            case .done(let letters):
                store(letters, spool: spool)
            case .retry(let remaining, let letters):
                spoolAppend(remaining, deadLetters: letters, spool: spool)
            }
        }
        for batch in batches { spoolAppend(batch, spool: spool) }
        replay(spool: spool, writer: writer, now: now)
        publishSpoolCounters()
    }

    /// Replays the spool oldest first, a bounded amount per round. A batch leaves the spool in the
    /// same transaction that stores its dead letters, and only after InfluxDB took it.
    private func replay(spool: LineSpool, writer: InfluxWriter, now: Date) {
        var replayed = 0
        while replayed < 200, now >= sender.nextAttempt, !isStopping {
            let batch: LineSpool.Batch
            do {
                guard let oldest = try spool.oldest() else { break }
                batch = oldest
            } catch {
                spoolError("cannot read the spool", error)
                break
            }
            let lines = batch.lines.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            let delivery = deliver(lines, writer: writer)
            do {
                switch delivery {
                case .done(let letters):
                    try spool.complete(batch, deadLetters: letters)
                case .retry(let remaining, let letters):
                    // Keep only what InfluxDB has not taken yet, at the batch's place in line.
                    if remaining.count < lines.count || !letters.isEmpty {
                        try spool.replace(batch, remaining: remaining, deadLetters: letters)
                    }
                }
            } catch {
                // The batch stays and is re-sent later: InfluxDB stores the same points once.
                spoolError("cannot update the spool after a delivery", error)
                recordFailure(reason: "spool: \(error)", after: nil)
                break
            }
            guard case .done = delivery else { break }
            replayed += 1
        }
        if replayed > 0 && spool.isEmpty { logger.info("spool drained; InfluxDB is receiving again") }
    }

    /// Sends one batch, salvaging what InfluxDB rejects.
    func deliver(_ batch: [String], writer: InfluxWriter) -> Delivery {
        var (lines, deadLetters) = stripKnownConflicts(batch)
        // Each round either ends or learns one new conflict (bounded: a line has finitely many fields).
        for _ in 0..<64 {
            guard !lines.isEmpty else { return .done(deadLetters: deadLetters) }
            switch writer.write(lines.joined(separator: "\n")) {
            case .accepted:
                recordSuccess(points: lines.count)
                return .done(deadLetters: deadLetters)
            case .retry(let reason, let after):
                recordFailure(reason: reason, after: after)
                return .retry(remaining: lines, deadLetters: deadLetters)
            case .rejected(let status, let message):
                if let conflict = FieldTypeConflict(response: message), sender.conflicts.learn(conflict, now: Date()) {
                    logConflict(conflict, message: message)
                    let salvaged = stripKnownConflicts(lines, status: status, message: message)
                    lines = salvaged.lines
                    deadLetters += salvaged.deadLetters
                    continue
                }
                guard lines.count > 1 else {
                    counters.withLock { $0.rejected += 1 }
                    return .done(deadLetters: deadLetters + [LineSpool.DeadLetter(status: status, message: message, line: lines[0])])
                }
                return resendSingly(lines, deadLetters: deadLetters, firstStatus: status, firstMessage: message, writer: writer)
            }
        }
        return resendSingly(lines, deadLetters: deadLetters, firstStatus: 0, firstMessage: "too many field type conflicts", writer: writer)
    }

    /// After a rejection that names no field, the lines are sent one by one so only the lines
    /// InfluxDB refuses (after salvage) are dead-lettered.
    private func resendSingly(_ lines: [String], deadLetters: [LineSpool.DeadLetter], firstStatus: Int, firstMessage: String,
                              writer: InfluxWriter) -> Delivery {
        logger.warning("InfluxDB rejected a batch; isolating the rejected lines", metadata: ["status": "\(firstStatus)", "message": "\(firstMessage)"])
        var letters = deadLetters
        for (index, line) in lines.enumerated() {
            switch deliver([line], writer: writer) {
            case .done(let more):
                letters += more
            case .retry(let remaining, let more):
                return .retry(remaining: remaining + lines[(index + 1)...], deadLetters: letters + more)
            }
        }
        return .done(deadLetters: letters)
    }

    /// Takes known conflicting fields out of `lines`, counting them; a line left without fields becomes a dead letter.
    private func stripKnownConflicts(_ lines: [String], status: Int = 0, message: String = "")
        -> (lines: [String], deadLetters: [LineSpool.DeadLetter]) {
        let stripped = sender.conflicts.strip(lines, now: Date())
        guard !stripped.dropped.isEmpty || !stripped.emptied.isEmpty else { return (stripped.lines, []) }
        let letters = stripped.emptied.map { entry in
            LineSpool.DeadLetter(status: status == 0 ? 400 : status,
                                   message: message.isEmpty ? "field type conflict (learned earlier): input field \"\(entry.conflict.field)\" on measurement \"\(entry.conflict.measurement)\" is type \(entry.conflict.inputType), already exists as type \(entry.conflict.existingType); no field left" : message,
                                   line: entry.line)
        }
        counters.withLock { c in
            for (field, count) in stripped.dropped { c.fieldsDropped[field, default: 0] += count }
            c.rejected += letters.count
        }
        return (stripped.lines, letters)
    }

    private func logConflict(_ conflict: FieldTypeConflict, message: String) {
        guard sender.loggedConflicts.insert(conflict.field).inserted else { return }
        logger.warning("InfluxDB holds this field with another type; dropping it from points of that type, writing the rest", metadata: [
            "field": "\(conflict.field)", "measurement": "\(conflict.measurement)", "input_type": "\(conflict.inputType)",
            "existing_type": "\(conflict.existingType)", "message": "\(message.prefix(300))",
        ])
    }

    private func store(_ letters: [LineSpool.DeadLetter], spool: LineSpool) {
        guard !letters.isEmpty else { return }
        do {
            try spool.deadLetter(letters)
        } catch {
            spoolError("cannot store dead letters", error)
        }
    }

    private func spoolAppend(_ batch: [String], deadLetters: [LineSpool.DeadLetter] = [], spool: LineSpool) {
        do {
            try spool.append(batch, deadLetters: deadLetters)
        } catch {
            counters.withLock { $0.spoolWriteDropped += batch.count }
            logger.error("cannot spool points; dropping them", metadata: ["points": "\(batch.count)", "error": "\(error)"])
        }
    }

    private func spoolError(_ what: String, _ error: any Error) {
        logger.error("\(what)", metadata: ["spool": "\(spoolPath)", "error": "\(error)"])
    }

    private func recordSuccess(points: Int) {
        if sender.failures > 0 { logger.info("InfluxDB accepts writes again", metadata: ["failed_attempts": "\(sender.failures)"]) }
        sender.failures = 0
        sender.nextAttempt = .distantPast
        counters.withLock { $0.sent += points }
    }

    private func recordFailure(reason: String, after: Double?) {
        sender.failures += 1
        let delay = Self.retryDelay(failures: sender.failures, retryAfter: after, interval: encoding.retryInterval,
                                    max: encoding.retryIntervalMax, jitter: Double.random(in: 0.5...1))
        sender.nextAttempt = Date().addingTimeInterval(delay)
        if sender.failures == 1 {
            logger.warning("InfluxDB write failed; spooling and retrying", metadata: ["error": "\(reason)", "retry_seconds": "\(delay)"])
        } else {
            logger.debug("InfluxDB write failed", metadata: ["error": "\(reason)", "attempt": "\(sender.failures)"])
        }
        counters.withLock {
            $0.sendFailures += 1
            $0.lastError = reason
        }
    }

    /// Seconds until the next attempt: exponential (jittered) up to `interval`, at least the
    /// server's Retry-After, never more than `max` (a Retry-After of 99999999999 must not stop delivery).
    static func retryDelay(failures: Int, retryAfter: Double?, interval: Double, max cap: Double, jitter: Double) -> Double {
        RetryDelay.seconds(failures: failures, retryAfter: retryAfter, interval: interval, max: cap, jitter: jitter)
    }

    private func persistInbox() {
        let lines = inbox.withLock { queue -> [String] in
            let all = Array(queue)
            queue.removeAll()
            return all
        }
        guard let spool = sender.spool, !lines.isEmpty else { return }
        let batchSize = self.batchSize
        for start in stride(from: 0, to: lines.count, by: batchSize) {
            spoolAppend(Array(lines[start..<min(start + batchSize, lines.count)]), spool: spool)
        }
        publishSpoolCounters()
        logger.info("kept unsent points in the spool for the next start", metadata: ["points": "\(lines.count)"])
    }

    private func publishSpoolCounters() {
        guard let spool = sender.spool else { return }
        let (batches, points, bytes, dropped) = (spool.batches, spool.points, spool.bytes + spool.deadLetterBytes, spool.droppedPoints)
        let (letters, pruned) = (spool.deadLetters, spool.prunedDeadLetters)
        counters.withLock {
            $0.spoolBatches = batches
            $0.spoolPoints = points
            $0.spoolBytes = bytes
            $0.spoolDropped = dropped
            $0.deadLetters = letters
            $0.deadLettersPruned = pruned
        }
    }

    // MARK: Metrics

    public var queueDepth: Int { inbox.withLock { $0.count } }
    var snapshot: Counters { counters.withLock { $0 } }

    /// Points waiting in the durable spool (InfluxDB unreachable or behind).
    public var spooledPoints: Int { snapshot.spoolPoints }

    public func daemonMetrics() -> [DaemonMetric] {
        let c = snapshot
        let sink = [("sink", "influxdb")]
        var metrics = [
            DaemonMetric("hpmanager_sink_queue_depth", help: "Points waiting in a sink's in-memory inbox.", labels: sink, value: Double(queueDepth)),
            DaemonMetric("hpmanager_sink_queue_capacity", help: "Capacity of a sink's in-memory inbox.", labels: sink, value: Double(inboxCapacity)),
            DaemonMetric("hpmanager_sink_dropped_total", help: "Points a sink dropped (inbox full, spool over its bound, spool not writable).", kind: .counter,
                         labels: sink, value: Double(c.inboxDropped + c.spoolDropped + c.spoolWriteDropped)),
        ]
        for (reason, value) in [("inbox_full", c.inboxDropped), ("spool_bound", c.spoolDropped), ("spool_write_error", c.spoolWriteDropped)] {
            metrics.append(DaemonMetric("hpmanager_influx_dropped_points_total", help: "Points the Influx sink dropped, by reason.", kind: .counter,
                                        labels: [("reason", reason)], value: Double(value)))
        }
        metrics += [
            DaemonMetric("hpmanager_influx_points_sent_total", help: "Points InfluxDB accepted.", kind: .counter, value: Double(c.sent)),
            DaemonMetric("hpmanager_influx_points_rejected_total", help: "Points InfluxDB rejected (nothing of them could be written), kept as dead letters.",
                         kind: .counter, value: Double(c.rejected)),
            DaemonMetric("hpmanager_influx_write_failures_total", help: "Write attempts that failed and will be retried.", kind: .counter, value: Double(c.sendFailures)),
            DaemonMetric("hpmanager_influx_spooled_points", help: "Points waiting in the durable spool.", value: Double(c.spoolPoints)),
            DaemonMetric("hpmanager_influx_spool_batches", help: "Batches waiting in the durable spool.", value: Double(c.spoolBatches)),
            DaemonMetric("hpmanager_influx_spool_bytes", help: "Bytes of the durable spool counted against spool_max_mb (batches and dead letters).",
                         value: Double(c.spoolBytes)),
            DaemonMetric("hpmanager_influx_dead_letters", help: "Lines InfluxDB refused, kept in the spool's dead_letters table.", value: Double(c.deadLetters)),
            DaemonMetric("hpmanager_influx_dead_letters_pruned_total", help: "Dead letters removed by age, count or the spool bound.", kind: .counter,
                         value: Double(c.deadLettersPruned)),
        ]
        for (field, count) in c.fieldsDropped.sorted(by: { $0.key < $1.key }) {
            metrics.append(DaemonMetric("hpmanager_influx_fields_dropped_total", help: "Field values left out of points because InfluxDB holds the field with another type.",
                                        kind: .counter, labels: [("field", field)], value: Double(count)))
        }
        return metrics
    }
}
