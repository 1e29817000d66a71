import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Feeds one Prometheus remote-write receiver (Prometheus, Mimir, Thanos, VictoriaMetrics) without
/// ever blocking polling, and without losing samples across outages and restarts.
///
/// The Influx sink's guarantees, with the same spool (`LineSpool`): `publish` turns a poll into
/// samples in a bounded inbox (`queue.capacity`: the direct-send window; what arrives beyond it while
/// requests are in flight goes to the spool, and only beyond five times `capacity` are samples
/// dropped and counted). Every
/// `batch_send_deadline` the sender — on its own I/O thread, where libcurl and SQLite block — sends
/// the inbox in requests of `max_samples_per_send`, up to `max_shards` at once (a series always
/// through the same shard, so in order). A request that cannot be delivered (network
/// error, 429, 5xx) goes to the durable spool; while the spool is not empty newer samples queue
/// behind it, so every series arrives in time order (receivers refuse out-of-order samples). The
/// spool is replayed oldest first with exponential backoff (Retry-After honoured, capped by
/// `max_backoff`), also after a restart. A 4xx other than 429 is a refusal: the request is split
/// in halves until the refused samples are isolated, and only those become dead letters.
public final class RemoteWriteSink: TelemetrySink, Service, DaemonMetricsSource, SpoolTransport {
    /// Writer-side state: one writer (libcurl handle) per shard. `@unchecked Sendable`: `open` fills
    /// `writers` on the sender's strand before any delivery and nothing replaces it later; writer `i`
    /// is used only by `deliver(_:shard: i)`, and the sender never runs two deliveries of one shard
    /// at once (a round or replay step waits for all its shards before the next starts).
    final class WriterState: @unchecked Sendable {
        var writers: [RemoteWriteWriter] = []
    }

    public let settings: RemoteWriteSettings
    public let spoolPath: String
    private let labels: RemoteWriteLabelCache
    private let timings = RemoteWriteTimings()
    private let lineReader = RemoteWriteLineReader()
    private let version: String
    private let logger: Logger
    private let writerState = WriterState()
    private let sender: SpooledSender<RemoteWriteSink>

    public init(settings: RemoteWriteSettings, spoolPath: String, site: SiteSettings = SiteSettings(), version: String, logger: Logger) {
        self.settings = settings
        self.spoolPath = spoolPath
        labels = RemoteWriteLabelCache(site: site.seriesLabels)
        self.version = version
        var logger = logger
        logger[metadataKey: "sink"] = "remote_write"
        logger[metadataKey: "remote_name"] = "\(settings.name)"
        self.logger = logger
        let queue = settings.queue
        sender = SpooledSender(batchSize: queue.maxSamplesPerSend, inboxCapacity: queue.capacity, interval: .seconds(queue.batchSendDeadline),
                               shards: queue.maxShards, spoolPath: spoolPath,
                               limits: .init(maxBytes: Int64(settings.spoolMaxMB) * 1_048_576, deadLetterRetention: settings.deadLetterRetention,
                                             deadLetterMax: settings.deadLetterMax),
                               threadName: "hpm-rw",
                               wording: .init(items: "samples", failed: "remote write failed", recovered: "remote write accepted again",
                                              drained: "the receiver is taking samples again"),
                               logger: logger) { failures, retryAfter in
            RetryDelay.doubling(failures: failures, retryAfter: retryAfter, min: queue.minBackoff, max: queue.maxBackoff,
                                jitter: Double.random(in: 0.5...1))
        }
    }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        let samples = RemoteWriteSeries.samples(report, labels: labels)
        guard !samples.isEmpty else { return }
        sender.enqueue(samples)
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {}
    public func deviceRemoved(_ id: String) { labels.remove(id) }

    // MARK: Service

    public func run() async throws {
        try await sender.run(self)
    }

    // MARK: SpoolTransport

    func open(stopping: StopFlag) throws {
        writerState.writers = try (0..<sender.shardCount).map { _ in
            try RemoteWriteWriter(settings: settings, version: version, timings: timings, shouldAbort: { stopping.isSet })
        }
    }

    /// A series' shard: the hash of its labels besides the name (all of a device's series in one
    /// shard; the same series, the same shard, within this process).
    static func shardKey(_ sample: RemoteWriteSample) -> Int { sample.series.hash }

    static func spoolLine(_ sample: RemoteWriteSample) -> String { sample.line }
    func item(spoolLine: Substring) -> RemoteWriteSample? { lineReader.sample(spoolLine) }

    func deliver(_ batch: [RemoteWriteSample]) -> SpoolDelivery<RemoteWriteSample> {
        deliver(batch, shard: 0)
    }

    func deliver(_ batch: [RemoteWriteSample], shard: Int) -> SpoolDelivery<RemoteWriteSample> {
        deliver(batch, shard: shard, isolating: false)
    }

    /// Sends one batch. A refusal (4xx but 429) is bisected so only the refused samples become dead letters.
    private func deliver(_ batch: [RemoteWriteSample], shard: Int, isolating: Bool) -> SpoolDelivery<RemoteWriteSample> {
        guard !batch.isEmpty else { return .done(deadLetters: []) }
        guard writerState.writers.indices.contains(shard) else { return .retry(remaining: batch, deadLetters: [], reason: "not open", retryAfter: nil) }
        switch writerState.writers[shard].write(batch) {
        case .accepted:
            return .done(deadLetters: [])
        case .retry(let reason, let after):
            return .retry(remaining: batch, deadLetters: [], reason: reason, retryAfter: after)
        case .rejected(let status, let message):
            guard batch.count > 1 else {
                logger.debug("receiver refused a sample", metadata: ["status": "\(status)", "message": "\(message.prefix(300))"])
                return .done(deadLetters: [LineSpool.DeadLetter(status: status, message: message, line: batch[0].line)])
            }
            if !isolating {
                logger.warning("receiver refused a request; isolating the refused samples", metadata: [
                    "status": "\(status)", "message": "\(message.prefix(300))", "samples": "\(batch.count)",
                ])
            }
            let middle = batch.count / 2
            switch deliver(Array(batch[..<middle]), shard: shard, isolating: true) {
            case .retry(let remaining, let letters, let reason, let after):
                return .retry(remaining: remaining + batch[middle...], deadLetters: letters, reason: reason, retryAfter: after)
            case .done(let letters):
                switch deliver(Array(batch[middle...]), shard: shard, isolating: true) {
                case .done(let more): return .done(deadLetters: letters + more)
                case .retry(let remaining, let more, let reason, let after):
                    return .retry(remaining: remaining, deadLetters: letters + more, reason: reason, retryAfter: after)
                }
            }
        }
    }

    // MARK: Metrics

    public var queueDepth: Int { sender.queueDepth }

    /// Items the inbox holds at most: its capacity plus the overflow a slow receiver fills (beyond it, drops).
    var inboxLimit: Int { sender.inboxLimit }

    var snapshot: SpooledSender<RemoteWriteSink>.Counters { sender.snapshot }

    /// The last failed request's reason (empty when none failed).
    public var lastError: String { snapshot.lastError }

    /// Samples waiting in the durable spool.
    public var spooledSamples: Int { snapshot.spoolItems }

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
        let t = timings.snapshot
        metrics += [
            DaemonMetric("hpmanager_remote_write_overflow_spilled_samples_total",
                         help: "Samples moved to the durable spool because more than queue.capacity arrived while requests were in flight (a receiver slower than the intake).",
                         kind: .counter, labels: remote, value: Double(c.overflowSpilled)),
            DaemonMetric("hpmanager_remote_write_requests_total", help: "Remote-write requests the receiver answered (any status; all shards).", kind: .counter,
                         labels: remote, value: Double(t.requests)),
            DaemonMetric("hpmanager_remote_write_encode_seconds_total", help: "Time spent encoding and compressing remote-write request bodies.", kind: .counter,
                         labels: remote, value: t.encodeSeconds),
            DaemonMetric("hpmanager_remote_write_request_seconds_total", help: "Time remote-write requests took from sending to the receiver's answer (summed over shards).",
                         kind: .counter, labels: remote, value: t.requestSeconds),
            DaemonMetric("hpmanager_remote_write_sent_bytes_total", help: "Compressed remote-write body bytes sent.", kind: .counter, labels: remote,
                         value: Double(t.bodyBytes)),
            DaemonMetric("hpmanager_remote_write_samples_sent_total", help: "Samples the remote-write receiver accepted.", kind: .counter, labels: remote, value: Double(c.sent)),
            DaemonMetric("hpmanager_remote_write_samples_rejected_total", help: "Samples the receiver refused (4xx other than 429), kept as dead letters.",
                         kind: .counter, labels: remote, value: Double(c.rejected)),
            DaemonMetric("hpmanager_remote_write_failures_total", help: "Remote-write requests that failed and will be retried.", kind: .counter, labels: remote,
                         value: Double(c.sendFailures)),
            DaemonMetric("hpmanager_remote_write_spooled_samples", help: "Samples waiting in the durable spool.", labels: remote, value: Double(c.spoolItems)),
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
