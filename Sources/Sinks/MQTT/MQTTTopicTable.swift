import Synchronization

/// A topic interned once: a small number standing for its string in the mailbox and the outbox.
struct MQTTTopicID: Hashable, Sendable {
    let index: Int
}

/// The sink's topic strings, each interned once (when a device's or register's topic is first
/// built), so the per-message path (mailbox, outbox, acks, persistence) indexes arrays by number
/// instead of hashing and comparing topic strings (~10 % of the sink's CPU before).
///
/// Shared by the producers (device actors, the supervisor) and the connection thread; its state is
/// behind one `Mutex`. Ids are never reused: a topic keeps its id for the sink's life, so the table
/// grows only with distinct topics (devices × registers + discovery configs).
final class MQTTTopicTable: Sendable {
    private struct State {
        var ids: [String: MQTTTopicID] = [:]
        var names: [String] = []
    }

    private let state = Mutex(State())

    init() {}

    /// The topic's id; the same string always gets the same id.
    func intern(_ topic: String) -> MQTTTopicID {
        state.withLock { s in
            if let id = s.ids[topic] { return id }
            let id = MQTTTopicID(index: s.names.count)
            s.ids[topic] = id
            s.names.append(topic)
            return id
        }
    }

    var count: Int { state.withLock { $0.names.count } }

    /// The names of ids `start...` (for a reader's local copy).
    func names(from start: Int) -> [String] {
        state.withLock { s in start < s.names.count ? Array(s.names[start...]) : [] }
    }
}
