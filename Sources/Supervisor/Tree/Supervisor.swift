import Logging

/// One-for-one supervisor: each child runs in its own task; a child that throws (or, if permanent,
/// returns) is restarted with backoff, and one that exceeds its restart intensity is parked as
/// failed for a cooldown. A child's failure never touches its siblings.
public actor Supervisor {
    private struct Child {
        var task: Task<Void, Never>
        var generation: Int
    }

    public let intensity: RestartIntensity
    private let onEvent: @Sendable (ChildEvent) -> Void
    private var children: [String: Child] = [:]
    private var generation = 0

    public init(intensity: RestartIntensity, onEvent: @escaping @Sendable (ChildEvent) -> Void) {
        self.intensity = intensity
        self.onEvent = onEvent
    }

    public var childIDs: [String] { children.keys.sorted() }

    /// Starts `spec` (stopping a running child with the same id first).
    public func start(_ spec: ChildSpec) async {
        // Re-check after every await: a concurrent start may have put a child there meanwhile.
        while children[spec.id] != nil { await stop(spec.id) }
        generation += 1
        let intensity = self.intensity
        let onEvent = self.onEvent
        let task = Task {
            await Self.supervise(spec, intensity: intensity, onEvent: onEvent)
        }
        children[spec.id] = Child(task: task, generation: generation)
    }

    /// Stops a child and waits until it has finished.
    public func stop(_ id: String) async {
        guard let child = children.removeValue(forKey: id) else { return }
        child.task.cancel()
        await child.task.value
    }

    public func stopAll() async {
        await stop(Array(children.keys))
    }

    /// Stops several children at once: all are cancelled first, then awaited (in parallel, not one by one).
    public func stop(_ ids: [String]) async {
        let stopping = ids.compactMap { children.removeValue(forKey: $0) }
        for child in stopping { child.task.cancel() }
        for child in stopping { await child.task.value }
    }

    private static func supervise(_ spec: ChildSpec, intensity: RestartIntensity, onEvent: @Sendable (ChildEvent) -> Void) async {
        let clock = ContinuousClock()
        var failures: [ContinuousClock.Instant] = []
        var restarts = 0
        while !Task.isCancelled {
            var failure: String?
            do {
                try await spec.start()
                if Task.isCancelled { return }
                switch spec.restart {
                case .permanent: failure = "exited unexpectedly"
                case .transient, .temporary: onEvent(.exited(id: spec.id)); return
                }
            } catch {
                if Task.isCancelled { return }
                failure = "\(error)"
            }
            guard let failure, spec.restart != .temporary else { onEvent(.exited(id: spec.id)); return }
            let (decision, history) = RestartPolicy.decide(failures: failures, now: clock.now, intensity: intensity)
            failures = history
            switch decision {
            case .restart(let delay):
                restarts += 1
                onEvent(.restarting(id: spec.id, error: failure, delay: delay, restarts: restarts))
                do { try await clock.sleep(for: delay) } catch { return }
            case .fail(let cooldown):
                onEvent(.failed(id: spec.id, error: failure, cooldown: cooldown))
                do { try await clock.sleep(for: cooldown) } catch { return }
                restarts += 1
                onEvent(.restarting(id: spec.id, error: "failed cooldown over", delay: .zero, restarts: restarts))
            }
        }
    }
}
