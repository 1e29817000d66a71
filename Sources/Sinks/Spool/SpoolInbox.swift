import DequeModule
import Synchronization

/// The in-memory queue between a sink's producers (device polls, on NIO event loops) and its
/// `SpooledSender`. Appending only copies into memory under a lock: it never waits for the disk or
/// for the sender.
///
/// `capacity` is the direct-send window: one sender round takes at most that many items straight to
/// the receiver. While a round is in flight (a receiver slower than the intake), items keep arriving
/// beyond it, up to `overflowCapacity` more. When the round ends, up to one more window's worth
/// stays in memory for the next round (started at once); more than that means the receiver is
/// behind by more than a round, and the sender moves everything waiting to the durable spool,
/// behind the round's own failures, so nothing is lost while spool space remains and the disk is
/// used only when the receiver stays behind. Only beyond both bounds are items dropped (counted by
/// the caller). Memory: at most `capacity + overflowCapacity` items.
final class SpoolInbox<Item: Sendable>: Sendable {
    /// How many times `capacity` the overflow may hold when none is given.
    static var overflowFactor: Int { 4 }

    let capacity: Int
    let overflowCapacity: Int
    private let queue = Mutex(Deque<Item>())

    /// - Parameter overflowCapacity: nil: `overflowFactor × capacity`.
    init(capacity: Int, overflowCapacity: Int? = nil) {
        self.capacity = max(1, capacity)
        let (product, overflowed) = self.capacity.multipliedReportingOverflow(by: Self.overflowFactor)
        self.overflowCapacity = max(0, overflowCapacity ?? (overflowed ? Int.max - self.capacity : product))
    }

    /// The hard bound: items beyond it are refused.
    var limit: Int {
        let (sum, overflowed) = capacity.addingReportingOverflow(overflowCapacity)
        return overflowed ? Int.max : sum
    }

    /// Appends what fits under `limit`, in order; returns how many items did not fit.
    func append(_ items: some Collection<Item>) -> Int {
        let limit = self.limit
        return queue.withLock { queue -> Int in
            let room = max(0, limit - queue.count)
            queue.append(contentsOf: items.prefix(room))
            return items.count - min(room, items.count)
        }
    }

    var count: Int { queue.withLock { $0.count } }

    /// More than two direct-send windows wait (checked when a round ends): the receiver is behind by
    /// more than a round, so what waits goes to the spool instead of memory.
    var isOverflowing: Bool {
        let (twice, overflowed) = capacity.multipliedReportingOverflow(by: 2)
        return count > (overflowed ? Int.max : twice)
    }

    /// The oldest `maximum` items (all when fewer wait).
    func take(maximum: Int) -> [Item] {
        queue.withLock { queue -> [Item] in
            let n = min(max(0, maximum), queue.count)
            guard n < queue.count else {
                let all = Array(queue)
                queue.removeAll(keepingCapacity: true)
                return all
            }
            let head = Array(queue.prefix(n))
            queue.removeFirst(n)
            return head
        }
    }

    func takeAll() -> [Item] { take(maximum: Int.max) }
}
