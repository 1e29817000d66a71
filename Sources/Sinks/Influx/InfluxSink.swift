import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Writes every poll to InfluxDB without ever blocking polling, and without losing points across
/// outages and restarts.
///
/// `publish` encodes one line and appends it to the bounded inbox of a `SpooledSender`, which sends
/// it every `batch_interval` in batches of `batch_size`; what arrives beyond the inbox while a
/// write is in flight (a slow InfluxDB) goes to the spool, and only beyond the inbox's hard bound
/// (five times its capacity) are points dropped and counted. A batch
/// that cannot be delivered (network error, 429, 5xx) goes to the durable spool and is replayed in
/// order with exponential backoff (honouring Retry-After; every wait capped by
/// `retry_interval_max`), also after a daemon restart.
///
/// A batch InfluxDB rejects is salvaged: a field type conflict named in the answer removes that
/// field (from this and every later line whose value has the refused type) and the rest is sent
/// again; other rejections are isolated line by line, and only lines nothing can be saved of go to
/// the dead-letter table.
public final class InfluxSink: TelemetrySink, Service, DaemonMetricsSource, SpoolTransport {
    /// Writer-side state. `@unchecked Sendable`: only `open`, `deliver` and a `reconfigure` change
    /// touch it, and the sender runs each as a job of its one strand, never two at once.
    final class WriterState: @unchecked Sendable {
        var writer: InfluxWriter?
        var conflicts = FieldConflictFilter()
        /// Fields whose conflict was logged (once per field and process).
        var loggedConflicts: Set<String> = []
    }

    /// The destination and credentials; a live settings change may replace them (`reconfigure`).
    public var settings: InfluxSettings { live.withLock { $0 } }
    public var batchSize: Int { sender.batchSize }
    public var batchInterval: Duration { sender.interval }
    private let live: Mutex<InfluxSettings>
    /// How lines are encoded and retried, fixed for the sink's life (a live change never alters them).
    private let encoding: InfluxSettings
    public let spoolPath: String
    public var inboxCapacity: Int { sender.inboxCapacity }
    private let precision: LineProtocol.Precision
    /// The site's `site` tag and extra labels, on every point.
    private let siteTags: [SeriesLabel]
    private let logger: Logger
    /// Field values left out because InfluxDB holds the field with another type, by field.
    private let fieldsDropped = Mutex([String: Int]())
    private let writerState = WriterState()
    private let sender: SpooledSender<InfluxSink>

    /// - Parameter inboxCapacity: the inbox's direct-send window; nil: `max(10_000, 20 × batchSize)`.
    public init(settings: InfluxSettings, batchSize: Int, batchInterval: Double, spoolPath: String, site: SiteSettings = SiteSettings(),
                inboxCapacity: Int? = nil, logger: Logger) {
        live = Mutex(settings)
        encoding = settings
        siteTags = site.seriesLabels
        self.spoolPath = spoolPath
        precision = LineProtocol.Precision(rawValue: settings.precision) ?? .ns
        var logger = logger
        logger[metadataKey: "sink"] = "influxdb"
        self.logger = logger
        let (interval, cap) = (settings.retryInterval, settings.retryIntervalMax)
        let batchSize = max(1, batchSize)
        sender = SpooledSender(batchSize: batchSize, inboxCapacity: max(1, inboxCapacity ?? max(10_000, batchSize * 20)), interval: .seconds(batchInterval),
                               spoolPath: spoolPath,
                               limits: .init(maxBytes: Int64(settings.spoolMaxMB) * 1_048_576, deadLetterRetention: settings.deadLetterRetention,
                                             deadLetterMax: settings.deadLetterMax),
                               threadName: "hpm-influx",
                               wording: .init(items: "points", failed: "InfluxDB write failed", recovered: "InfluxDB accepts writes again",
                                              drained: "InfluxDB is receiving again"),
                               logger: logger) { failures, retryAfter in
            RetryDelay.seconds(failures: failures, retryAfter: retryAfter, interval: interval, max: cap, jitter: Double.random(in: 0.5...1))
        }
    }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        // One inbox item per point: batches, the spool's counts and the sent counter are in points
        // (a poll with template instances is several).
        let lines = LineProtocol.lines(report, precision: precision, fieldTypes: encoding.fieldTypes,
                                       unsignedFields: encoding.version == 2, siteTags: siteTags)
        guard !lines.isEmpty else { return }
        sender.enqueue(lines)
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {}
    public func deviceRemoved(_ id: String) {}

    // MARK: Service

    public func run() async throws {
        try await sender.run(self)
    }

    /// Points the sink at a new destination or batching (a live settings change) without a restart:
    /// only the writer is replaced, on the sender's thread between two rounds, so the durable spool
    /// and the inbox carry over and are delivered, in order and once, to the new destination. The
    /// old destination's backoff is forgotten and one round runs at once. Throws (and changes
    /// nothing) when the new writer cannot be made, e.g. an unreadable `token_file`.
    public func reconfigure(_ settings: InfluxSettings, batchSize: Int, batchInterval: Double) async throws {
        let stopping = sender.stopping
        try await sender.reconfigure(batchSize: batchSize, interval: .seconds(batchInterval), self) { [self] in
            let writer = try InfluxWriter(settings: settings, shouldAbort: { stopping.isSet })
            live.withLock { $0 = settings }
            writerState.writer = writer
        }
        logger.info("InfluxDB settings changed live; the spool carries over", metadata: [
            "batch_size": "\(max(1, batchSize))", "batch_interval": "\(batchInterval)",
        ])
    }

    // MARK: SpoolTransport

    func open(stopping: StopFlag) throws {
        writerState.writer = try InfluxWriter(settings: settings, shouldAbort: { stopping.isSet })
    }

    static func spoolLine(_ line: String) -> String { line }
    func item(spoolLine: Substring) -> String? { String(spoolLine) }

    /// Sends one batch, salvaging what InfluxDB rejects.
    func deliver(_ batch: [String]) -> SpoolDelivery<String> {
        guard let writer = writerState.writer else { return .retry(remaining: batch, deadLetters: [], reason: "not open", retryAfter: nil) }
        var (lines, deadLetters) = stripKnownConflicts(batch)
        // Each round either ends or learns one new conflict (bounded: a line has finitely many fields).
        for _ in 0..<64 {
            guard !lines.isEmpty else { return .done(deadLetters: deadLetters) }
            switch writer.write(lines.joined(separator: "\n")) {
            case .accepted:
                return .done(deadLetters: deadLetters)
            case .retry(let reason, let after):
                return .retry(remaining: lines, deadLetters: deadLetters, reason: reason, retryAfter: after)
            case .rejected(let status, let message):
                if let conflict = FieldTypeConflict(response: message), writerState.conflicts.learn(conflict, now: Date()) {
                    logConflict(conflict, message: message)
                    let salvaged = stripKnownConflicts(lines, status: status, message: message)
                    lines = salvaged.lines
                    deadLetters += salvaged.deadLetters
                    continue
                }
                guard lines.count > 1 else {
                    return .done(deadLetters: deadLetters + [LineSpool.DeadLetter(status: status, message: message, line: lines[0])])
                }
                return resendSingly(lines, deadLetters: deadLetters, firstStatus: status, firstMessage: message)
            }
        }
        return resendSingly(lines, deadLetters: deadLetters, firstStatus: 0, firstMessage: "too many field type conflicts")
    }

    /// After a rejection that names no field, the lines are sent one by one so only the lines
    /// InfluxDB refuses (after salvage) are dead-lettered.
    private func resendSingly(_ lines: [String], deadLetters: [LineSpool.DeadLetter], firstStatus: Int, firstMessage: String) -> SpoolDelivery<String> {
        logger.warning("InfluxDB rejected a batch; isolating the rejected lines", metadata: ["status": "\(firstStatus)", "message": "\(firstMessage)"])
        var letters = deadLetters
        for (index, line) in lines.enumerated() {
            switch deliver([line]) {
            case .done(let more):
                letters += more
            case .retry(let remaining, let more, let reason, let after):
                return .retry(remaining: remaining + lines[(index + 1)...], deadLetters: letters + more, reason: reason, retryAfter: after)
            }
        }
        return .done(deadLetters: letters)
    }

    /// Takes known conflicting fields out of `lines`, counting them; a line left without fields becomes a dead letter.
    private func stripKnownConflicts(_ lines: [String], status: Int = 0, message: String = "")
        -> (lines: [String], deadLetters: [LineSpool.DeadLetter]) {
        let stripped = writerState.conflicts.strip(lines, now: Date())
        guard !stripped.dropped.isEmpty || !stripped.emptied.isEmpty else { return (stripped.lines, []) }
        let letters = stripped.emptied.map { entry in
            LineSpool.DeadLetter(status: status == 0 ? 400 : status,
                                   message: message.isEmpty ? "field type conflict (learned earlier): input field \"\(entry.conflict.field)\" on measurement \"\(entry.conflict.measurement)\" is type \(entry.conflict.inputType), already exists as type \(entry.conflict.existingType); no field left" : message,
                                   line: entry.line)
        }
        fieldsDropped.withLock { dropped in
            for (field, count) in stripped.dropped { dropped[field, default: 0] += count }
        }
        return (stripped.lines, letters)
    }

    private func logConflict(_ conflict: FieldTypeConflict, message: String) {
        guard writerState.loggedConflicts.insert(conflict.field).inserted else { return }
        logger.warning("InfluxDB holds this field with another type; dropping it from points of that type, writing the rest", metadata: [
            "field": "\(conflict.field)", "measurement": "\(conflict.measurement)", "input_type": "\(conflict.inputType)",
            "existing_type": "\(conflict.existingType)", "message": "\(message.prefix(300))",
        ])
    }

    // MARK: Metrics

    public var queueDepth: Int { sender.queueDepth }

    /// Items the inbox holds at most: its capacity plus the overflow a slow receiver fills (beyond it, drops).
    var inboxLimit: Int { sender.inboxLimit }

    var snapshot: SpooledSender<InfluxSink>.Counters { sender.snapshot }

    /// Points waiting in the durable spool (InfluxDB unreachable or behind).
    public var spooledPoints: Int { snapshot.spoolItems }

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
            DaemonMetric("hpmanager_influx_overflow_spilled_points_total",
                         help: "Points moved to the durable spool because more than the inbox's capacity arrived while a write was in flight (InfluxDB slower than the intake).",
                         kind: .counter, value: Double(c.overflowSpilled)),
            DaemonMetric("hpmanager_influx_points_sent_total", help: "Points InfluxDB accepted.", kind: .counter, value: Double(c.sent)),
            DaemonMetric("hpmanager_influx_points_rejected_total", help: "Points InfluxDB rejected (nothing of them could be written), kept as dead letters.",
                         kind: .counter, value: Double(c.rejected)),
            DaemonMetric("hpmanager_influx_write_failures_total", help: "Write attempts that failed and will be retried.", kind: .counter, value: Double(c.sendFailures)),
            DaemonMetric("hpmanager_influx_spooled_points", help: "Points waiting in the durable spool.", value: Double(c.spoolItems)),
            DaemonMetric("hpmanager_influx_spool_batches", help: "Batches waiting in the durable spool.", value: Double(c.spoolBatches)),
            DaemonMetric("hpmanager_influx_spool_bytes", help: "Bytes of the durable spool counted against spool_max_mb (batches and dead letters).",
                         value: Double(c.spoolBytes)),
            DaemonMetric("hpmanager_influx_dead_letters", help: "Lines InfluxDB refused, kept in the spool's dead_letters table.", value: Double(c.deadLetters)),
            DaemonMetric("hpmanager_influx_dead_letters_pruned_total", help: "Dead letters removed by age, count or the spool bound.", kind: .counter,
                         value: Double(c.deadLettersPruned)),
        ]
        for (field, count) in fieldsDropped.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            metrics.append(DaemonMetric("hpmanager_influx_fields_dropped_total", help: "Field values left out of points because InfluxDB holds the field with another type.",
                                        kind: .counter, labels: [("field", field)], value: Double(count)))
        }
        return metrics
    }
}
