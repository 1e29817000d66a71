import DequeModule
import Synchronization

/// What the sink's callers (device actors, the supervisor) hand to the connection thread: the
/// newest message per topic since the thread last looked, bounded. Never blocks a caller.
final class MQTTMailbox: Sendable {
    struct Pending {
        var messages: [String: MQTTOutbox.Message] = [:]
        var order = Deque<String>()
        var dropped = 0
    }

    struct Counters: Sendable {
        var connected = false
        var connects = 0
        var connectFailures = 0
        var acknowledged = 0
        var outboxTopics = 0
        var inflight = 0
        var outboxDropped = 0
        var mailboxDropped = 0
        var setReceived = 0
        var setRefused = 0
    }

    let capacity: Int
    private let pending = Mutex(Pending())
    private let stop = Atomic<Bool>(false)
    let counters = Mutex(Counters())

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Replaces each topic's waiting message; new topics beyond `capacity` are dropped and counted.
    func post(_ messages: [MQTTOutbox.Message]) {
        guard !messages.isEmpty else { return }
        pending.withLock { p in
            for m in messages {
                if p.messages.updateValue(m, forKey: m.topic) == nil {
                    if p.order.count >= capacity {
                        p.messages.removeValue(forKey: m.topic)
                        p.dropped += 1
                    } else {
                        p.order.append(m.topic)
                    }
                }
            }
        }
    }

    /// Everything waiting, in arrival order of the topics.
    func take() -> (messages: [MQTTOutbox.Message], dropped: Int) {
        pending.withLock { p in
            let out = p.order.compactMap { p.messages[$0] }
            let dropped = p.dropped
            p = Pending()
            return (out, dropped)
        }
    }

    var waiting: Int { pending.withLock { $0.order.count } }

    func requestStop() { stop.store(true, ordering: .releasing) }
    var stopRequested: Bool { stop.load(ordering: .acquiring) }
}
