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
/// Retry-After, capped by `retry_interval`), also after a daemon restart. Lines InfluxDB rejects
/// (400) are re-sent one by one; the ones it still rejects go to the dead-letter table.
public final class InfluxSink: TelemetrySink, Service, DaemonMetricsSource {
    struct Counters {
        var inboxDropped = 0
        var sent = 0
        var rejected = 0
        var sendFailures = 0
        var spoolBatches = 0
        var spoolPoints = 0
        var spoolBytes: Int64 = 0
        var spoolDropped = 0
        var lastError = ""
    }

    /// Sender-side state, confined to `strand` (jobs there never overlap).
    final class Sender: @unchecked Sendable {
        var writer: InfluxWriter?
        var spool: InfluxSpool?
        var failures = 0
        var nextAttempt = Date.distantPast
    }

    public let settings: InfluxSettings
    public let batchSize: Int
    public let batchInterval: Duration
    public let spoolPath: String
    public let inboxCapacity: Int
    private let precision: LineProtocol.Precision
    private let logger: Logger
    private let inbox = Mutex(Deque<String>())
    private let counters = Mutex(Counters())
    private let pool = IOThreadPool(maxThreads: 1, name: "hpm-influx")
    private let strand: IOStrand
    private let sender = Sender()

    public init(settings: InfluxSettings, batchSize: Int, batchInterval: Double, spoolPath: String, logger: Logger) {
        self.settings = settings
        self.batchSize = max(1, batchSize)
        self.batchInterval = .seconds(batchInterval)
        self.spoolPath = spoolPath
        inboxCapacity = max(10_000, self.batchSize * 20)
        precision = LineProtocol.Precision(rawValue: settings.precision) ?? .ns
        var logger = logger
        logger[metadataKey: "sink"] = "influxdb"
        self.logger = logger
        strand = IOStrand(pool: pool)
    }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        guard let line = LineProtocol.line(report, precision: precision) else { return }
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
        try await strand.run { [self] in try openResources() }
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: self.batchInterval)
                    try await self.strand.run { self.cycle(now: Date()) }
                }
            }
        } catch is CancellationError {
            // fall through: keep what is queued
        }
        try await strand.run { [self] in persistInbox() }
        pool.shutdown()
    }

    private func openResources() throws {
        sender.spool = try InfluxSpool(path: spoolPath, maxBytes: Int64(settings.spoolMaxMB) * 1_048_576)
        sender.writer = try InfluxWriter(settings: settings)
        if let spool = sender.spool, !spool.isEmpty {
            logger.info("replaying spooled points", metadata: ["points": "\(spool.points)", "batches": "\(spool.batches)"])
        }
        publishSpoolCounters()
    }

    /// The longest wait a server's Retry-After can impose, seconds.
    public static let retryAfterCap = 300.0

    /// One sender round: move the inbox out in batches, deliver directly or via the spool.
    func cycle(now: Date) {
        guard let spool = sender.spool, let writer = sender.writer else { return }
        let lines = inbox.withLock { queue -> [String] in
            let all = Array(queue)
            queue.removeAll(keepingCapacity: true)
            return all
        }
        var batches = stride(from: 0, to: lines.count, by: batchSize).map { Array(lines[$0..<min($0 + batchSize, lines.count)]) }[...]
        // Direct path only while nothing older waits in the spool (keeps order).
        while spool.isEmpty, now >= sender.nextAttempt, let batch = batches.first {
            // Handled either way: a batch that must be retried was spooled by `deliver` itself.
            batches = batches.dropFirst()
            guard deliver(batch, writer: writer, spool: spool) else { break }
        }
        for batch in batches { spoolAppend(batch, spool: spool) }
        // Replay the spool oldest first, a bounded amount per round.
        var replayed = 0
        while replayed < 200, now >= sender.nextAttempt, let batch = try? spool.oldest() {
            let batchLines = batch.lines.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
            guard deliver(batchLines, writer: writer, spool: nil) else { break }
            try? spool.delete(batch)
            replayed += 1
        }
        if replayed > 0 && spool.isEmpty { logger.info("spool drained; InfluxDB is receiving again") }
        publishSpoolCounters()
    }

    /// Sends one batch. Returns false when it must be retried later (then, if `spool` is given,
    /// the batch is spooled); true when it is done (accepted, or rejected lines dead-lettered).
    private func deliver(_ batch: [String], writer: InfluxWriter, spool: InfluxSpool?) -> Bool {
        switch writer.write(batch.joined(separator: "\n")) {
        case .accepted:
            recordSuccess(points: batch.count)
            return true
        case .retry(let reason, let after):
            recordFailure(reason: reason, after: after)
            if let spool { spoolAppend(batch, spool: spool) }
            return false
        case .rejected(let status, let message):
            return resendSingly(batch, firstStatus: status, firstMessage: message, writer: writer, spool: spool)
        }
    }

    /// After a 400 the batch is sent line by line so only the lines InfluxDB refuses are dead-lettered.
    private func resendSingly(_ batch: [String], firstStatus: Int, firstMessage: String, writer: InfluxWriter, spool: InfluxSpool?) -> Bool {
        logger.warning("InfluxDB rejected a batch; isolating the rejected lines", metadata: ["status": "\(firstStatus)", "message": "\(firstMessage)"])
        for (index, line) in batch.enumerated() {
            switch writer.write(line) {
            case .accepted:
                recordSuccess(points: 1)
            case .rejected(let status, let message):
                try? self.sender.spool?.deadLetter(status: status, message: message, lines: [line])
                counters.withLock { $0.rejected += 1 }
            case .retry(let reason, let after):
                recordFailure(reason: reason, after: after)
                if let spool { spoolAppend(Array(batch[index...]), spool: spool) }
                return false
            }
        }
        return true
    }

    private func spoolAppend(_ batch: [String], spool: InfluxSpool) {
        do {
            try spool.append(batch)
        } catch {
            counters.withLock { $0.spoolDropped += batch.count }
            logger.error("cannot spool points; dropping them", metadata: ["points": "\(batch.count)", "error": "\(error)"])
        }
    }

    private func recordSuccess(points: Int) {
        if sender.failures > 0 { logger.info("InfluxDB accepts writes again", metadata: ["failed_attempts": "\(sender.failures)"]) }
        sender.failures = 0
        sender.nextAttempt = .distantPast
        counters.withLock { $0.sent += points }
    }

    private func recordFailure(reason: String, after: Double?) {
        sender.failures += 1
        let exponential = min(settings.retryInterval, pow(2, Double(min(sender.failures - 1, 20))))
        // A server's Retry-After is honoured up to `retryAfterCap`: 99999999999 must not stop delivery.
        let delay = max(exponential * Double.random(in: 0.5...1), min(after ?? 0, max(settings.retryInterval, Self.retryAfterCap)))
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

    private func persistInbox() {
        let lines = inbox.withLock { queue -> [String] in
            let all = Array(queue)
            queue.removeAll()
            return all
        }
        guard let spool = sender.spool, !lines.isEmpty else { return }
        for start in stride(from: 0, to: lines.count, by: batchSize) {
            spoolAppend(Array(lines[start..<min(start + batchSize, lines.count)]), spool: spool)
        }
        publishSpoolCounters()
        logger.info("kept unsent points in the spool for the next start", metadata: ["points": "\(lines.count)"])
    }

    private func publishSpoolCounters() {
        guard let spool = sender.spool else { return }
        let (batches, points, bytes, dropped) = (spool.batches, spool.points, spool.bytes, spool.droppedPoints)
        counters.withLock {
            $0.spoolBatches = batches
            $0.spoolPoints = points
            $0.spoolBytes = bytes
            $0.spoolDropped = dropped
        }
    }

    // MARK: Metrics

    public var queueDepth: Int { inbox.withLock { $0.count } }
    var snapshot: Counters { counters.withLock { $0 } }

    public func daemonMetrics() -> [DaemonMetric] {
        let c = snapshot
        let sink = [("sink", "influxdb")]
        return [
            DaemonMetric("hpmanager_sink_queue_depth", help: "Points waiting in a sink's in-memory inbox.", labels: sink, value: Double(queueDepth)),
            DaemonMetric("hpmanager_sink_queue_capacity", help: "Capacity of a sink's in-memory inbox.", labels: sink, value: Double(inboxCapacity)),
            DaemonMetric("hpmanager_sink_dropped_total", help: "Points a sink dropped (inbox full or spool over its bound).", kind: .counter,
                         labels: sink, value: Double(c.inboxDropped + c.spoolDropped)),
            DaemonMetric("hpmanager_influx_points_sent_total", help: "Points InfluxDB accepted.", kind: .counter, value: Double(c.sent)),
            DaemonMetric("hpmanager_influx_points_rejected_total", help: "Points InfluxDB rejected (400), kept as dead letters.", kind: .counter, value: Double(c.rejected)),
            DaemonMetric("hpmanager_influx_write_failures_total", help: "Write attempts that failed and will be retried.", kind: .counter, value: Double(c.sendFailures)),
            DaemonMetric("hpmanager_influx_spooled_points", help: "Points waiting in the durable spool.", value: Double(c.spoolPoints)),
            DaemonMetric("hpmanager_influx_spool_batches", help: "Batches waiting in the durable spool.", value: Double(c.spoolBatches)),
            DaemonMetric("hpmanager_influx_spool_bytes", help: "Line-protocol bytes in the durable spool.", value: Double(c.spoolBytes)),
        ]
    }
}
