import BlockingIO
import DequeModule
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// What became of one batch a sink's transport tried to deliver.
enum SpoolDelivery<Item> {
    /// Delivered, apart from the dead letters.
    case done(deadLetters: [LineSpool.DeadLetter])
    /// `remaining` (in order) were not delivered and must be retried (`reason`, and the server's
    /// Retry-After if it sent one); the items before them were delivered or are dead letters.
    case retry(remaining: [Item], deadLetters: [LineSpool.DeadLetter], reason: String, retryAfter: Double?)
}

extension SpoolDelivery: Sendable where Item: Sendable {}

/// A sink's way of reaching its receiver. Every call runs on the sender's thread, one at a time.
protocol SpoolTransport: AnyObject, Sendable {
    associatedtype Item: Sendable
    /// Opens the writer; `stopping` aborts a transfer in flight once set.
    func open(stopping: StopFlag) throws
    /// Sends one batch (may block up to the writer's timeout).
    func deliver(_ batch: [Item]) -> SpoolDelivery<Item>
    /// Sends one batch with the writer of `shard` (several shards send at once, each from its own
    /// thread; calls for one shard never overlap). Default: `deliver(_:)` (a sender with one shard).
    func deliver(_ batch: [Item], shard: Int) -> SpoolDelivery<Item>
    /// Which shard an item belongs to, as any stable hash: items with the same key (one series) go
    /// to the same shard, so they stay in order while shards send at once. Default 0.
    static func shardKey(_ item: Item) -> Int
    /// The item as one spool line (no newline in it).
    static func spoolLine(_ item: Item) -> String
    /// The item a spool line holds; nil when it cannot be read back (it becomes a dead letter).
    func item(spoolLine: Substring) -> Item?
}

extension SpoolTransport {
    func deliver(_ batch: [Item], shard: Int) -> SpoolDelivery<Item> { deliver(batch) }
    static func shardKey(_ item: Item) -> Int { 0 }
}

/// Set when graceful shutdown or cancellation begins. Shared by the service task (sets it), the
/// sender (stops between batches) and libcurl's progress callback (aborts the transfer).
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// The delivery loop the Influx and remote-write sinks share: a bounded inbox that polling appends
/// to without blocking, and a sender on its own I/O thread (where libcurl and SQLite block) that
/// sends the inbox in batches every `interval`, and earlier whenever a full batch is waiting (like
/// Telegraf's flush on `metric_batch_size` and Prometheus' `max_samples_per_send`).
///
/// With more than one shard, a round with more than one batch's worth of items splits them by
/// `shardKey` (one series → one shard) and sends up to `shards` requests at once, each shard its
/// batches in order (Prometheus' shards). The round ends when every shard is done, so the next
/// round's items never overtake this one's.
///
/// A batch that cannot be delivered goes to the durable spool; while the spool is not empty newer
/// batches queue behind it, so items arrive in order. The spool is replayed oldest first, with the
/// sink's backoff, also after a restart; a batch leaves the spool only after the receiver took it,
/// in the same transaction that stores its dead letters. On graceful shutdown or cancellation the
/// transfer in flight is aborted and everything not acknowledged stays in (or moves to) the spool.
///
/// A receiver that is alive but slower than the intake costs no items either: a round takes at most
/// the inbox's `capacity` (the direct-send window); what arrives beyond it while the round is in
/// flight waits in the inbox's overflow (memory-bounded, see `SpoolInbox`). When the round ends, one
/// more window's worth is sent by the next round at once; beyond that everything waiting moves to
/// the spool, behind the round's own failures. Replay sends through the shards as the
/// direct path does (each series in the shard of its key, so in order) and moves the inbox to the
/// spool between its steps, so a long replay does not make the inbox overflow either.
final class SpooledSender<Transport: SpoolTransport>: Sendable {
    typealias Item = Transport.Item

    /// How the sender's log lines name the receiver and what it carries.
    struct Wording: Sendable {
        /// "points", "samples".
        var items: String
        /// "InfluxDB write failed"
        var failed: String
        /// "InfluxDB accepts writes again"
        var recovered: String
        /// "InfluxDB is receiving again"
        var drained: String
    }

    struct Counters {
        /// Items refused because the inbox and its overflow were full.
        var inboxDropped = 0
        /// Items moved to the spool because more than the inbox's capacity arrived while requests
        /// were in flight (a receiver slower than the intake).
        var overflowSpilled = 0
        /// Items written to the spool (failed requests, overflow, a receiver behind, shutdown): what
        /// took the slower path of a text line written, read back and parsed.
        var spoolAppended = 0
        /// Items lost because the spool could not be written (disk full, I/O error).
        var spoolWriteDropped = 0
        var sent = 0
        /// Items the receiver refused (the transport's dead letters).
        var rejected = 0
        var sendFailures = 0
        var spoolBatches = 0
        var spoolItems = 0
        var spoolBytes: Int64 = 0
        /// Items dropped by the spool's size bound (this process).
        var spoolDropped = 0
        var deadLetters = 0
        var deadLettersPruned = 0
        var lastError = ""
    }

    /// Sender-side state. `@unchecked Sendable`: only read and written inside `strand` jobs (open,
    /// cycle, reconfigure, persist), which run one at a time on the sender's thread.
    private final class State: @unchecked Sendable {
        var spool: LineSpool?
        var failures = 0
        var nextAttempt = Date.distantPast
        /// `Counters.inboxDropped` when the sender last looked, and whether drops are going on (logged once per episode).
        var droppedSeen = 0
        var droppingSince: Int?
    }

    /// How often the sender looks for a full batch between rounds.
    static var fullBatchCheck: Duration { .milliseconds(100) }
    /// Spool batches one round replays at most before the round ends.
    static var replayBatchesPerRound: Int { 200 }

    var inboxCapacity: Int { inbox.capacity }
    /// Items the inbox holds at most (capacity and overflow); beyond it items are dropped.
    var inboxLimit: Int { inbox.limit }
    let spoolPath: String
    let stopping = StopFlag()
    /// Batch size and round interval; a live settings change may replace them (`reconfigure`).
    private let pacing: Mutex<(batchSize: Int, interval: Duration)>
    var batchSize: Int { pacing.withLock { $0.batchSize } }
    var interval: Duration { pacing.withLock { $0.interval } }
    private let limits: LineSpool.Limits
    private let wording: Wording
    /// Seconds before the next attempt after `failures` failures in a row, given the server's Retry-After.
    private let backoff: @Sendable (_ failures: Int, _ retryAfter: Double?) -> Double
    private let logger: Logger
    private let inbox: SpoolInbox<Item>
    private let counters = Mutex(Counters())
    private let pool: IOThreadPool
    private let strand: IOStrand
    private let shards: SpoolShards
    private let state = State()

    /// - Parameter overflowCapacity: items the inbox holds beyond `inboxCapacity` while a round is in
    ///   flight; nil: `SpoolInbox.overflowFactor × inboxCapacity`.
    init(batchSize: Int, inboxCapacity: Int, overflowCapacity: Int? = nil, interval: Duration, shards: Int = 1, spoolPath: String,
         limits: LineSpool.Limits, threadName: String,
         wording: Wording, logger: Logger, backoff: @escaping @Sendable (_ failures: Int, _ retryAfter: Double?) -> Double) {
        pacing = Mutex((batchSize: max(1, batchSize), interval: interval))
        inbox = SpoolInbox(capacity: inboxCapacity, overflowCapacity: overflowCapacity)
        self.spoolPath = spoolPath
        self.limits = limits
        self.wording = wording
        self.logger = logger
        self.backoff = backoff
        pool = IOThreadPool(maxThreads: 1, name: threadName)
        strand = IOStrand(pool: pool)
        self.shards = SpoolShards(count: shards, threadName: threadName + "-s")
    }

    var shardCount: Int { shards.count }

    // MARK: Producer side (polling)

    /// Appends what fits (memory only: never waits for the disk or the sender); returns how many
    /// items were dropped because the inbox and its overflow are full (counted; the sender logs it).
    @discardableResult
    func enqueue(_ items: some Collection<Item>) -> Int {
        let dropped = inbox.append(items)
        if dropped > 0 { counters.withLock { $0.inboxDropped += dropped } }
        return dropped
    }

    /// Items in the inbox, its overflow included (at most `inboxLimit`).
    var queueDepth: Int { inbox.count }
    var snapshot: Counters { counters.withLock { $0 } }

    // MARK: Service

    func run(_ transport: Transport) async throws {
        defer {
            pool.shutdown()
            shards.shutdown()
        }
        // Not skipped by an early cancellation: the final persist below needs the spool.
        try await strand.runIgnoringCancellation { [self] in try open(transport) }
        do {
            // Graceful shutdown and cancellation both stop the sender between batches and abort a
            // transfer or replay in flight (libcurl's progress callback reads `stopping`).
            try await withTaskCancellationHandler {
                try await withGracefulShutdownHandler {
                    try await cancelWhenGracefulShutdown {
                        // A round every `interval`, or as soon as a full batch waits (so the inbox's
                        // capacity bounds a burst, not the sustained rate): checked every tick.
                        // A round that ends with a full batch already waiting is followed by the next at
                        // once: at a sustained rate near what the receiver takes, a pause after every round
                        // would let the inbox overflow.
                        let clock = ContinuousClock()
                        var last = clock.now
                        var behind = false
                        while true {
                            let (batchSize, interval) = self.pacing.withLock { $0 }
                            if behind { try Task.checkCancellation() } else { try await Task.sleep(for: min(interval, Self.fullBatchCheck)) }
                            let full = Self.fullBatch(batchSize: batchSize, capacity: self.inboxCapacity)
                            guard clock.now - last >= interval || self.queueDepth >= full else { continue }
                            last = clock.now
                            try await self.strand.run { self.cycle(transport, now: Date()) }
                            behind = self.queueDepth >= full
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
        // The spool is closed there too (its last checkpoint and fsync), not by a deinit on
        // whichever thread drops the sink last.
        try await strand.runIgnoringCancellation { [self] in
            persistInbox()
            state.spool = nil
        }
    }

    /// A live settings change: `change` runs on the sender's thread between two rounds (e.g. a new
    /// writer for a new destination; if it throws, nothing changes), then the batching is replaced,
    /// the old destination's backoff is forgotten and one round runs at once. The spool and the inbox
    /// carry over and are delivered, in order and once, to the new destination.
    func reconfigure(batchSize: Int, interval: Duration, _ transport: Transport, _ change: @escaping @Sendable () throws -> Void) async throws {
        try await strand.run { [self] in
            try change()
            pacing.withLock { $0 = (max(1, batchSize), interval) }
            state.failures = 0
            state.nextAttempt = .distantPast
            if state.spool != nil, !stopping.isSet { cycle(transport, now: Date()) }
        }
    }

    private func open(_ transport: Transport) throws {
        let spool = try LineSpool(path: spoolPath, limits: limits)
        state.spool = spool
        try transport.open(stopping: stopping)
        if !spool.isEmpty {
            logger.info("replaying spooled \(wording.items)", metadata: [wording.items: "\(spool.points)", "batches": "\(spool.batches)"])
        }
        publishSpoolCounters()
    }

    /// One sender round: deliver at most the direct-send window straight away (shards at once), or
    /// queue everything behind a non-empty spool; then replay the spool.
    private func cycle(_ transport: Transport, now: Date) {
        guard let spool = state.spool else { return }
        // Direct path only while nothing older waits in the spool (keeps order).
        if spool.isEmpty, now >= state.nextAttempt, !stopping.isSet, inbox.count > 0 {
            let items = inbox.take(maximum: inbox.capacity)
            let lanes = Self.shard(items, batchSize: batchSize, shards: shards.count)
            let outcome = Self.tally(shards.run(lanes.enumerated().map { shard, batches in
                { @Sendable [self] in sendShard(batches, shard: shard, transport) }
            }))
            spoolAppend(outcome.undelivered, deadLetters: outcome.deadLetters, spool: spool)
            book(outcome)
            // More than the next round's window arrived while this one was in flight: to the spool,
            // behind the round's failures (from then on everything queues behind the spool, so in order).
            if inbox.isOverflowing { spillInbox(spool) }
            noticeDrops()
        } else {
            spillInbox(spool)
        }
        replay(transport, spool: spool, now: now)
        noticeDrops()
        publishSpoolCounters()
    }

    /// What one shard did in a round: the batches it tried, with their outcome, and those it did not
    /// try after a failure (they go to the spool behind the failed one).
    struct ShardResult: Sendable {
        var tried: [(batch: Int, delivery: SpoolDelivery<Item>)] = []
        var untried: [[Item]] = []
    }

    /// The round's batches per shard. One shard while the round holds at most one batch (a quiet
    /// sink sends one request per round, as before); otherwise every shard, each item in the shard
    /// of its `shardKey`, so a series is never in two requests in flight. All shards rather than
    /// just enough for the count: hashing is uneven, and a shard with one item over a batch would
    /// send twice in a row and double the round.
    static func shard(_ items: [Item], batchSize: Int, shards: Int) -> [[[Item]]] {
        let used = items.count > batchSize ? max(1, shards) : 1
        var lanes: [[Item]]
        if used <= 1 {
            lanes = [items]
        } else {
            lanes = Array(repeating: [], count: used)
            for i in lanes.indices { lanes[i].reserveCapacity(items.count / used + batchSize / 4) }
            let modulus = UInt(used)
            for item in items { lanes[Int(UInt(bitPattern: Transport.shardKey(item)) % modulus)].append(item) }
        }
        return lanes.filter { !$0.isEmpty }.map { lane in
            stride(from: 0, to: lane.count, by: batchSize).map { Array(lane[$0..<min($0 + batchSize, lane.count)]) }
        }
    }

    /// Runs on the shard's thread: sends its batches in order until one fails. Touches only the
    /// transport's writer of this shard and `stopping`; the outcome is booked by the sender.
    private func sendShard(_ batches: [[Item]], shard: Int, _ transport: Transport) -> ShardResult {
        var result = ShardResult()
        for (i, batch) in batches.enumerated() {
            guard !stopping.isSet else {
                result.untried = Array(batches[i...])
                break
            }
            let delivery = transport.deliver(batch, shard: shard)
            result.tried.append((batch.count, delivery))
            if case .retry = delivery {
                result.untried = Array(batches[(i + 1)...])
                break
            }
        }
        return result
    }

    /// What a round or replay step did, over all its shards.
    struct Outcome {
        var delivered = 0
        var rejected = 0
        var deadLetters: [LineSpool.DeadLetter] = []
        /// What was not delivered, as batches: each shard's rest in its order (a series is in one
        /// shard, so each series keeps its order however the shards' rests are put together).
        var undelivered: [[Item]] = []
        /// The first failure (one per round for the backoff).
        var failure: (reason: String, retryAfter: Double?)?
    }

    static func tally(_ results: [ShardResult]) -> Outcome {
        var outcome = Outcome()
        for result in results {
            for (count, delivery) in result.tried {
                switch delivery {
                case .done(let letters):
                    outcome.rejected += letters.count
                    outcome.delivered += count - letters.count
                    outcome.deadLetters += letters
                case .retry(let remaining, let letters, let reason, let retryAfter):
                    outcome.rejected += letters.count
                    outcome.delivered += count - remaining.count - letters.count
                    outcome.deadLetters += letters
                    if !remaining.isEmpty { outcome.undelivered.append(remaining) }
                    if outcome.failure == nil { outcome.failure = (reason, retryAfter) }
                }
            }
            outcome.undelivered += result.untried
        }
        return outcome
    }

    /// Books an outcome on the sender's thread: counters, and the backoff after a failure.
    private func book(_ outcome: Outcome) {
        if outcome.rejected > 0 { counters.withLock { $0.rejected += outcome.rejected } }
        if outcome.delivered > 0 { recordSuccess(outcome.delivered) }
        if let failure = outcome.failure { recordFailure(reason: failure.reason, retryAfter: failure.retryAfter) }
    }

    /// Replays the spool oldest first, a bounded amount per round. Each step takes the oldest
    /// batches (`replayStep`) and sends them through the shards (a series
    /// always through the same one, so in order); what a failed shard did not deliver keeps the
    /// oldest batch's place in line. Between steps the inbox moves to the spool once a batch's
    /// worth waits, so a long replay against a slow receiver does not make it overflow.
    private func replay(_ transport: Transport, spool: LineSpool, now: Date) {
        var replayed = 0
        // Only while the spool holds something: with it empty, the inbox is the direct path's (moving
        // it to the spool here would send it anyway, at the cost of writing, reading and parsing it).
        while replayed < Self.replayBatchesPerRound, !spool.isEmpty, now >= state.nextAttempt, !stopping.isSet {
            let batchSize = self.batchSize
            if inbox.count >= Self.fullBatch(batchSize: batchSize, capacity: inbox.capacity) {
                spillInbox(spool)
                noticeDrops()
            }
            let taken: [LineSpool.Batch]
            do {
                taken = try spool.oldest(points: Self.replayStep(batchSize: batchSize, shards: shards.count, capacity: inbox.capacity), limit: 1_000)
            } catch {
                spoolError("cannot read the spool", error)
                break
            }
            guard !taken.isEmpty else { break }
            var items: [Item] = []
            var unreadable: [LineSpool.DeadLetter] = []
            for batch in taken {
                // Split on the bytes: a newline is never part of a UTF-8 sequence, and String's split
                // would walk grapheme clusters.
                for bytes in batch.lines.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                    let line = Substring(bytes)
                    if let item = transport.item(spoolLine: line) {
                        items.append(item)
                    } else {
                        unreadable.append(.init(status: 0, message: "unreadable spool line", line: String(line)))
                    }
                }
            }
            let lanes = Self.shard(items, batchSize: batchSize, shards: shards.count)
            let outcome = Self.tally(shards.run(lanes.enumerated().map { shard, batches in
                { @Sendable [self] in sendShard(batches, shard: shard, transport) }
            }))
            book(outcome)
            do {
                // Nothing taken and nothing refused: the batches stay as they are.
                if outcome.delivered > 0 || !outcome.deadLetters.isEmpty || !unreadable.isEmpty {
                    try spool.settle(taken, remaining: outcome.undelivered.flatMap { $0 }.map(Transport.spoolLine),
                                     deadLetters: unreadable + outcome.deadLetters)
                }
            } catch {
                // The batches stay and are re-sent later: the receivers store an identical point once.
                spoolError("cannot update the spool after a delivery", error)
                recordFailure(reason: "spool: \(error)", retryAfter: nil)
                break
            }
            guard outcome.failure == nil else { break }
            replayed += taken.count
        }
        if replayed > 0 && spool.isEmpty { logger.info("spool drained; \(wording.drained)") }
    }

    /// Items one replay step takes from the spool: one batch with one shard (a crash re-sends at
    /// most that); with shards a direct round's worth (the inbox's capacity, at least a batch per
    /// shard), so that batches the spool holds grouped by shard (a failed round's rests) are mixed
    /// again and every shard has work.
    static func replayStep(batchSize: Int, shards: Int, capacity: Int) -> Int {
        shards > 1 ? max(capacity, shards * batchSize) : batchSize
    }

    /// Items waiting that make a full batch (the run loop then starts a round at once).
    static func fullBatch(batchSize: Int, capacity: Int) -> Int { max(1, min(batchSize, capacity / 2)) }

    /// Appends `batches` in order, with dead letters, in one transaction; on failure they are dropped and counted.
    private func spoolAppend(_ batches: [[Item]], deadLetters: [LineSpool.DeadLetter] = [], spool: LineSpool) {
        guard !batches.isEmpty || !deadLetters.isEmpty else { return }
        let count = batches.reduce(0) { $0 + $1.count }
        do {
            try spool.append(batches: batches.map { $0.map(Transport.spoolLine) }, deadLetters: deadLetters)
            counters.withLock { $0.spoolAppended += count }
        } catch {
            counters.withLock { $0.spoolWriteDropped += count }
            logger.error("cannot spool \(wording.items); dropping them", metadata: [wording.items: "\(count)", "error": "\(error)"])
        }
    }

    /// Moves everything in the inbox to the spool, in order, in batches (one transaction).
    private func spillInbox(_ spool: LineSpool) {
        let items = inbox.takeAll()
        guard !items.isEmpty else { return }
        if items.count > inbox.capacity { counters.withLock { $0.overflowSpilled += items.count } }
        let batchSize = self.batchSize
        spoolAppend(stride(from: 0, to: items.count, by: batchSize).map { Array(items[$0..<min($0 + batchSize, items.count)]) }, spool: spool)
    }

    /// Logs inbox drops once per episode: when they start, and when a look finds none new.
    private func noticeDrops() {
        let dropped = counters.withLock { $0.inboxDropped }
        let new = dropped - state.droppedSeen
        state.droppedSeen = dropped
        if new > 0, state.droppingSince == nil {
            state.droppingSince = dropped - new
            logger.error("inbox and its overflow are full; dropping \(wording.items) until the sender catches up", metadata: [
                wording.items: "\(new)", "limit": "\(inbox.limit)",
            ])
        } else if new == 0, let since = state.droppingSince {
            state.droppingSince = nil
            logger.warning("no longer dropping \(wording.items)", metadata: ["dropped": "\(dropped - since)"])
        }
    }

    private func spoolError(_ what: String, _ error: any Error) {
        logger.error("\(what)", metadata: ["spool": "\(spoolPath)", "error": "\(error)"])
    }

    private func recordSuccess(_ delivered: Int) {
        if state.failures > 0 { logger.info("\(wording.recovered)", metadata: ["failed_attempts": "\(state.failures)"]) }
        state.failures = 0
        state.nextAttempt = .distantPast
        counters.withLock { $0.sent += delivered }
    }

    private func recordFailure(reason: String, retryAfter: Double?) {
        state.failures += 1
        let delay = backoff(state.failures, retryAfter)
        state.nextAttempt = Date().addingTimeInterval(delay)
        if state.failures == 1 {
            logger.warning("\(wording.failed); spooling and retrying", metadata: ["error": "\(reason)", "retry_seconds": "\(delay)"])
        } else {
            logger.debug("\(wording.failed)", metadata: ["error": "\(reason)", "attempt": "\(state.failures)"])
        }
        counters.withLock {
            $0.sendFailures += 1
            $0.lastError = reason
        }
    }

    private func persistInbox() {
        guard let spool = state.spool else { return }
        let waiting = inbox.count
        guard waiting > 0 else { return }
        spillInbox(spool)
        publishSpoolCounters()
        logger.info("kept unsent \(wording.items) in the spool for the next start", metadata: [wording.items: "\(waiting)"])
    }

    private func publishSpoolCounters() {
        guard let spool = state.spool else { return }
        let (batches, points, bytes, dropped) = (spool.batches, spool.points, spool.bytes + spool.deadLetterBytes, spool.droppedPoints)
        let (letters, pruned) = (spool.deadLetters, spool.prunedDeadLetters)
        counters.withLock {
            $0.spoolBatches = batches
            $0.spoolItems = points
            $0.spoolBytes = bytes
            $0.spoolDropped = dropped
            $0.deadLetters = letters
            $0.deadLettersPruned = pruned
        }
    }
}
