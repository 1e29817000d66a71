import BlockingIO
import DequeModule
import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Feeds one Prometheus remote-write receiver (Prometheus, Mimir, Thanos, VictoriaMetrics) without
/// ever blocking polling, and without losing samples across outages and restarts.
///
/// The Influx sink's guarantees, with the same spool (`LineSpool`): `publish` turns a poll into
/// samples in a bounded inbox (`queue.capacity`; overflow dropped and counted). Every
/// `batch_send_deadline` the sender — on its own I/O thread, where libcurl and SQLite block — sends
/// the inbox in requests of `max_samples_per_send`. A request that cannot be delivered (network
/// error, 429, 5xx) goes to the durable spool; while the spool is not empty newer samples queue
/// behind it, so every series arrives in time order (receivers refuse out-of-order samples). The
/// spool is replayed oldest first with exponential backoff (Retry-After honoured, capped by
/// `max_backoff`), also after a restart. A 4xx other than 429 is a refusal: the request is split
/// in halves until the refused samples are isolated, and only those become dead letters.
public final class RemoteWriteSink: TelemetrySink, Service, DaemonMetricsSource {
    struct Counters {
        var inboxDropped = 0
        var spoolWriteDropped = 0
        var sent = 0
        var rejected = 0
        var sendFailures = 0
        var spoolSamples = 0
        var spoolBytes: Int64 = 0
        var spoolDropped = 0
        var deadLetters = 0
        var deadLettersPruned = 0
    }

    /// Sender-side state, confined to `strand` (jobs there never overlap).
    final class Sender: @unchecked Sendable {
        var writer: RemoteWriteWriter?
        var spool: LineSpool?
        var failures = 0
        var nextAttempt = Date.distantPast
    }

    /// What became of one batch.
    enum Delivery {
        case done(deadLetters: [LineSpool.DeadLetter])
        /// `remaining` (in order) were not written; samples before them were, or are dead letters.
        case retry(remaining: [RemoteWriteSample], deadLetters: [LineSpool.DeadLetter])
    }

    public let settings: RemoteWriteSettings
    public let spoolPath: String
    private let site: [SeriesLabel]
    private let version: String
    private let logger: Logger
    private let inbox = Mutex(Deque<RemoteWriteSample>())
    private let counters = Mutex(Counters())
    private let stopping = InfluxSink.StopFlag()
    private let pool: IOThreadPool
    private let strand: IOStrand
    private let sender = Sender()

    public init(settings: RemoteWriteSettings, spoolPath: String, site: SiteSettings = SiteSettings(), version: String, logger: Logger) {
        self.settings = settings
        self.spoolPath = spoolPath
        self.site = site.seriesLabels
        self.version = version
        var logger = logger
        logger[metadataKey: "sink"] = "remote_write"
        logger[metadataKey: "remote_name"] = "\(settings.name)"
        self.logger = logger
        pool = IOThreadPool(maxThreads: 1, name: "hpm-rw")
        strand = IOStrand(pool: pool)
    }

    private var batchSize: Int { settings.queue.maxSamplesPerSend }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        let samples = RemoteWriteSeries.samples(report, site: site)
        guard !samples.isEmpty else { return }
        let capacity = settings.queue.capacity
        let dropped = inbox.withLock { queue -> Int in
            let room = max(0, capacity - queue.count)
            queue.append(contentsOf: samples.prefix(room))
            return samples.count - min(room, samples.count)
        }
        if dropped > 0 { counters.withLock { $0.inboxDropped += dropped } }
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {}
    public func deviceRemoved(_ id: String) {}

    // MARK: Service

    public func run() async throws {
        defer { pool.shutdown() }
        try await strand.runIgnoringCancellation { [self] in try openResources() }
        do {
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await cancelWhenGracefulShutdown {
                        while true {
                            try await Task.sleep(for: .seconds(self.settings.queue.batchSendDeadline))
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
        try await strand.runIgnoringCancellation { [self] in persistInbox() }
    }

    private var isStopping: Bool { stopping.isSet }

    private func openResources() throws {
        sender.spool = try LineSpool(path: spoolPath, limits: .init(maxBytes: Int64(settings.spoolMaxMB) * 1_048_576,
                                                                    deadLetterRetention: settings.deadLetterRetention,
                                                                    deadLetterMax: settings.deadLetterMax))
        sender.writer = try RemoteWriteWriter(settings: settings, version: version, shouldAbort: { [stopping] in stopping.isSet })
        if let spool = sender.spool, !spool.isEmpty {
            logger.info("replaying spooled samples", metadata: ["samples": "\(spool.points)", "batches": "\(spool.batches)"])
        }
        publishSpoolCounters()
    }

    /// One sender round: move the inbox out in batches, deliver directly or via the spool.
    func cycle(now: Date) {
        guard let spool = sender.spool, let writer = sender.writer else { return }
        let samples = inbox.withLock { queue -> [RemoteWriteSample] in
            let all = Array(queue)
            queue.removeAll(keepingCapacity: true)
            return all
        }
        var batches = stride(from: 0, to: samples.count, by: batchSize).map { Array(samples[$0..<min($0 + batchSize, samples.count)]) }[...]
        // Direct path only while nothing older waits in the spool (keeps every series in time order).
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

    /// Replays the spool oldest first, a bounded amount per round; a batch leaves the spool only
    /// after the receiver took it, in the same transaction that stores its dead letters.
    private func replay(spool: LineSpool, writer: RemoteWriteWriter, now: Date) {
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
            var samples: [RemoteWriteSample] = []
            var unreadable: [LineSpool.DeadLetter] = []
            for line in batch.lines.split(separator: "\n", omittingEmptySubsequences: true) {
                if let sample = RemoteWriteSample(line: String(line)) {
                    samples.append(sample)
                } else {
                    unreadable.append(.init(status: 0, message: "unreadable spool line", line: String(line)))
                }
            }
            let delivery = deliver(samples, writer: writer)
            do {
                switch delivery {
                case .done(let letters):
                    try spool.complete(batch, deadLetters: unreadable + letters)
                case .retry(let remaining, let letters):
                    if remaining.count < samples.count || !letters.isEmpty || !unreadable.isEmpty {
                        try spool.replace(batch, remaining: remaining.map(\.line), deadLetters: unreadable + letters)
                    }
                }
            } catch {
                // The batch stays and is re-sent later: receivers store an identical sample once.
                spoolError("cannot update the spool after a delivery", error)
                recordFailure(reason: "spool: \(error)", after: nil)
                break
            }
            guard case .done = delivery else { break }
            replayed += 1
        }
        if replayed > 0 && spool.isEmpty { logger.info("spool drained; the receiver is taking samples again") }
    }

    /// Sends one batch. A refusal (4xx but 429) is bisected so only the refused samples become dead letters.
    func deliver(_ batch: [RemoteWriteSample], writer: RemoteWriteWriter, isolating: Bool = false) -> Delivery {
        guard !batch.isEmpty else { return .done(deadLetters: []) }
        switch writer.write(batch) {
        case .accepted:
            recordSuccess(samples: batch.count)
            return .done(deadLetters: [])
        case .retry(let reason, let after):
            recordFailure(reason: reason, after: after)
            return .retry(remaining: batch, deadLetters: [])
        case .rejected(let status, let message):
            guard batch.count > 1 else {
                counters.withLock { $0.rejected += 1 }
                logger.debug("receiver refused a sample", metadata: ["status": "\(status)", "message": "\(message.prefix(300))"])
                return .done(deadLetters: [LineSpool.DeadLetter(status: status, message: message, line: batch[0].line)])
            }
            if !isolating {
                logger.warning("receiver refused a request; isolating the refused samples", metadata: [
                    "status": "\(status)", "message": "\(message.prefix(300))", "samples": "\(batch.count)",
                ])
            }
            let middle = batch.count / 2
            let first = deliver(Array(batch[..<middle]), writer: writer, isolating: true)
            switch first {
            case .retry(let remaining, let letters):
                return .retry(remaining: remaining + batch[middle...], deadLetters: letters)
            case .done(let letters):
                switch deliver(Array(batch[middle...]), writer: writer, isolating: true) {
                case .done(let more): return .done(deadLetters: letters + more)
                case .retry(let remaining, let more): return .retry(remaining: remaining, deadLetters: letters + more)
                }
            }
        }
    }

    private func store(_ letters: [LineSpool.DeadLetter], spool: LineSpool) {
        guard !letters.isEmpty else { return }
        do {
            try spool.deadLetter(letters)
        } catch {
            spoolError("cannot store dead letters", error)
        }
    }

    private func spoolAppend(_ batch: [RemoteWriteSample], deadLetters: [LineSpool.DeadLetter] = [], spool: LineSpool) {
        do {
            try spool.append(batch.map(\.line), deadLetters: deadLetters)
        } catch {
            counters.withLock { $0.spoolWriteDropped += batch.count }
            logger.error("cannot spool samples; dropping them", metadata: ["samples": "\(batch.count)", "error": "\(error)"])
        }
    }

    private func spoolError(_ what: String, _ error: any Error) {
        logger.error("\(what)", metadata: ["spool": "\(spoolPath)", "error": "\(error)"])
    }

    private func recordSuccess(samples: Int) {
        if sender.failures > 0 { logger.info("remote write accepted again", metadata: ["failed_attempts": "\(sender.failures)"]) }
        sender.failures = 0
        sender.nextAttempt = .distantPast
        counters.withLock { $0.sent += samples }
    }

    private func recordFailure(reason: String, after: Double?) {
        sender.failures += 1
        let delay = RetryDelay.doubling(failures: sender.failures, retryAfter: after, min: settings.queue.minBackoff,
                                        max: settings.queue.maxBackoff, jitter: Double.random(in: 0.5...1))
        sender.nextAttempt = Date().addingTimeInterval(delay)
        if sender.failures == 1 {
            logger.warning("remote write failed; spooling and retrying", metadata: ["error": "\(reason)", "retry_seconds": "\(delay)"])
        } else {
            logger.debug("remote write failed", metadata: ["error": "\(reason)", "attempt": "\(sender.failures)"])
        }
        counters.withLock { $0.sendFailures += 1 }
    }

    private func persistInbox() {
        let samples = inbox.withLock { queue -> [RemoteWriteSample] in
            let all = Array(queue)
            queue.removeAll()
            return all
        }
        guard let spool = sender.spool, !samples.isEmpty else { return }
        for start in stride(from: 0, to: samples.count, by: batchSize) {
            spoolAppend(Array(samples[start..<min(start + batchSize, samples.count)]), spool: spool)
        }
        publishSpoolCounters()
        logger.info("kept unsent samples in the spool for the next start", metadata: ["samples": "\(samples.count)"])
    }

    private func publishSpoolCounters() {
        guard let spool = sender.spool else { return }
        let (points, bytes, dropped, letters, pruned) = (spool.points, spool.bytes + spool.deadLetterBytes, spool.droppedPoints,
                                                         spool.deadLetters, spool.prunedDeadLetters)
        counters.withLock {
            $0.spoolSamples = points
            $0.spoolBytes = bytes
            $0.spoolDropped = dropped
            $0.deadLetters = letters
            $0.deadLettersPruned = pruned
        }
    }

    // MARK: Metrics

    public var queueDepth: Int { inbox.withLock { $0.count } }
    var snapshot: Counters { counters.withLock { $0 } }

    /// Samples waiting in the durable spool.
    public var spooledSamples: Int { snapshot.spoolSamples }

    public func daemonMetrics() -> [DaemonMetric] {
        let c = snapshot
        let sink = [("sink", "remote_write"), ("remote_name", settings.name)]
        let remote = [("remote_name", settings.name)]
        var metrics = [
            DaemonMetric("hpmanager_sink_queue_depth", help: "Points waiting in a sink's in-memory inbox.", labels: sink, value: Double(queueDepth)),
            DaemonMetric("hpmanager_sink_queue_capacity", help: "Capacity of a sink's in-memory inbox.", labels: sink, value: Double(settings.queue.capacity)),
            DaemonMetric("hpmanager_sink_dropped_total", help: "Points a sink dropped (inbox full, spool over its bound, spool not writable).", kind: .counter,
                         labels: sink, value: Double(c.inboxDropped + c.spoolDropped + c.spoolWriteDropped)),
        ]
        for (reason, value) in [("inbox_full", c.inboxDropped), ("spool_bound", c.spoolDropped), ("spool_write_error", c.spoolWriteDropped)] {
            metrics.append(DaemonMetric("hpmanager_remote_write_dropped_samples_total", help: "Samples the remote-write sink dropped, by reason.", kind: .counter,
                                        labels: remote + [("reason", reason)], value: Double(value)))
        }
        metrics += [
            DaemonMetric("hpmanager_remote_write_samples_sent_total", help: "Samples the remote-write receiver accepted.", kind: .counter, labels: remote, value: Double(c.sent)),
            DaemonMetric("hpmanager_remote_write_samples_rejected_total", help: "Samples the receiver refused (4xx other than 429), kept as dead letters.",
                         kind: .counter, labels: remote, value: Double(c.rejected)),
            DaemonMetric("hpmanager_remote_write_failures_total", help: "Remote-write requests that failed and will be retried.", kind: .counter, labels: remote,
                         value: Double(c.sendFailures)),
            DaemonMetric("hpmanager_remote_write_spooled_samples", help: "Samples waiting in the durable spool.", labels: remote, value: Double(c.spoolSamples)),
            DaemonMetric("hpmanager_remote_write_spool_bytes", help: "Bytes of the durable spool counted against spool_max_mb (batches and dead letters).",
                         labels: remote, value: Double(c.spoolBytes)),
            DaemonMetric("hpmanager_remote_write_dead_letters", help: "Samples the receiver refused, kept in the spool's dead_letters table.", labels: remote,
                         value: Double(c.deadLetters)),
            DaemonMetric("hpmanager_remote_write_dead_letters_pruned_total", help: "Dead letters removed by age, count or the spool bound.", kind: .counter,
                         labels: remote, value: Double(c.deadLettersPruned)),
        ]
        return metrics
    }
}
