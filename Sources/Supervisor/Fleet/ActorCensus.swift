import Synchronization

/// Device actors currently inside `run()`, per id: more than one for an id would be a duplicate poller.
final class ActorCensus: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func entered(_ id: String) { counts.withLock { $0[id, default: 0] += 1 } }

    func left(_ id: String) {
        counts.withLock { counts in
            let remaining = (counts[id] ?? 1) - 1
            counts[id] = remaining > 0 ? remaining : nil
        }
    }

    var snapshot: [String: Int] { counts.withLock { $0 } }
}
