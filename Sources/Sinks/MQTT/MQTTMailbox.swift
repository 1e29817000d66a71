import Synchronization

/// What the sink's callers (device actors, the supervisor) hand to the connection thread: the
/// newest message per topic since the thread last looked, bounded. Never blocks a caller.
final class MQTTMailbox: Sendable {
    struct Pending {
        /// In arrival order of their topics; `slot` finds a topic's message.
        var messages: [MQTTOutbox.Message] = []
        var slot: [MQTTTopicID: Int] = [:]
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
                if let i = p.slot[m.topic] {
                    p.messages[i] = m
                } else if p.messages.count >= capacity {
                    p.dropped += 1
                } else {
                    p.slot[m.topic] = p.messages.count
                    p.messages.append(m)
                }
            }
        }
    }

    /// Everything waiting, in arrival order of the topics.
    func take() -> (messages: [MQTTOutbox.Message], dropped: Int) {
        pending.withLock { p in
            let out = (p.messages, p.dropped)
            p.messages = []
            p.messages.reserveCapacity(out.0.count)
            p.slot.removeAll(keepingCapacity: true)
            p.dropped = 0
            return out
        }
    }

    var waiting: Int { pending.withLock { $0.messages.count } }

    func requestStop() { stop.store(true, ordering: .releasing) }
    var stopRequested: Bool { stop.load(ordering: .acquiring) }
}
