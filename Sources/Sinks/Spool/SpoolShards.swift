import BlockingIO
import Foundation
import Synchronization

/// The sender's shards (Prometheus' `max_shards`): runs one job per shard at once, each on a thread
/// of its own, and waits for all of them (fork-join). Shard 0 runs on the calling thread (the
/// sender's), shards 1… on a pool of their own, so several requests are in flight while the sender
/// itself only waits. Used by one sender thread at a time (`SpooledSender.cycle`).
final class SpoolShards: Sendable {
    let count: Int
    private let pool: IOThreadPool?
    private let strands: [IOStrand]

    init(count: Int, threadName: String) {
        self.count = max(1, count)
        if self.count > 1 {
            let pool = IOThreadPool(maxThreads: self.count - 1, name: threadName)
            self.pool = pool
            strands = (1..<self.count).map { _ in IOStrand(pool: pool) }
        } else {
            pool = nil
            strands = []
        }
    }

    /// Runs `jobs` (at most `count`; extra ones run on the calling thread after the others) and
    /// returns their results in the same order.
    func run<R: Sendable>(_ jobs: [@Sendable () -> R]) -> [R] {
        guard jobs.count > 1 else { return jobs.map { $0() } }
        let slots = Slots<R>(count: jobs.count)
        let group = DispatchGroup()
        for (i, job) in jobs.enumerated().dropFirst() where i - 1 < strands.count {
            group.enter()
            strands[i - 1].enqueue {
                slots.set(i, job())
                group.leave()
            }
        }
        slots.set(0, jobs[0]())
        for i in (strands.count + 1)..<max(strands.count + 1, jobs.count) { slots.set(i, jobs[i]()) }
        group.wait()
        return slots.values()
    }

    func shutdown() { pool?.shutdown() }

    private final class Slots<R: Sendable>: Sendable {
        private let values_: Mutex<[R?]>
        init(count: Int) { values_ = Mutex(Array(repeating: nil, count: count)) }
        func set(_ i: Int, _ value: R) { values_.withLock { $0[i] = value } }
        func values() -> [R] { values_.withLock { $0.compactMap { $0 } } }
    }
}
