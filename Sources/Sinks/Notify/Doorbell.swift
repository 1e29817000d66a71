import Synchronization

/// Wakes one waiting loop early: `wait(atMost:)` ends after the duration or as soon as `ring` is
/// called, whichever comes first. A ring while nobody waits makes the next wait return at once.
///
/// It replaces loops that woke every 100 ms to look for work: idle, a loop waiting here costs no
/// wake-up until its duration ends. The protocol: a waker changes the state the loop reads *before*
/// ringing, and the loop re-reads that state after every wait, so a ring is never needed twice and
/// an extra wake-up is harmless.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var sleeper: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func ring() {
        let sleeper = state.withLock { s -> Task<Void, Never>? in
            guard let sleeper = s.sleeper else {
                s.rung = true
                return nil
            }
            s.sleeper = nil
            return sleeper
        }
        sleeper?.cancel()  // ends its sleep
    }

    /// One waiter at a time (the loop that owns the bell).
    func wait(atMost duration: Duration) async {
        let sleeper = Task<Void, Never> { _ = try? await Task.sleep(for: duration) }
        let rung = state.withLock { s -> Bool in
            if s.rung {
                s.rung = false
                return true
            }
            s.sleeper = sleeper
            return false
        }
        if rung {
            sleeper.cancel()
            return
        }
        await withTaskCancellationHandler {
            await sleeper.value
        } onCancel: {
            sleeper.cancel()
        }
        state.withLock { if $0.sleeper == sleeper { $0.sleeper = nil } }
    }
}
