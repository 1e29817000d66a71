import Foundation
import Supervisor
import Synchronization
import Testing
import TestSupport

@Suite("Supervisor (real actor, real tasks)", .harnessThreads)
struct SupervisorTests {
    final class Recorder: Sendable {
        let starts = Mutex<[String: [Date]]>([:])
        let events = Mutex<[ChildEvent]>([])

        func started(_ id: String) { starts.withLock { $0[id, default: []].append(Date()) } }
        func starts(_ id: String) -> [Date] { starts.withLock { $0[id] ?? [] } }
        func restartDelays(_ id: String) -> [Duration] {
            events.withLock {
                $0.compactMap { if case .restarting(id, _, let delay, _) = $0 { delay } else { nil } }
            }
        }
        var failedIDs: [String] {
            events.withLock { $0.compactMap { if case .failed(let id, _, _) = $0 { id } else { nil } } }
        }
    }

    struct Crash: Error {}

    let intensity = RestartIntensity(maxRestarts: 3, window: .seconds(30), backoffInitial: .seconds(0.1),
                                     backoffMax: .seconds(0.4), failedCooldown: .seconds(60))

    @Test("a crashing child is restarted with growing backoff, then marked failed; its sibling is untouched")
    func crashRestartFail() async throws {
        let recorder = Recorder()
        let supervisor = Supervisor(intensity: intensity) { event in recorder.events.withLock { $0.append(event) } }
        await supervisor.start(ChildSpec(id: "crashy") {
            recorder.started("crashy")
            throw Crash()
        })
        await supervisor.start(ChildSpec(id: "steady") {
            recorder.started("steady")
            try await Task.sleep(for: .seconds(60))
        })
        _ = try await eventually("crashy marked failed", timeout: 5) { recorder.failedIDs == ["crashy"] ? true : nil }
        let starts = recorder.starts("crashy")
        #expect(starts.count == 4, "initial start + max_restarts restarts")
        let gaps = zip(starts.dropFirst(), starts).map { $0.timeIntervalSince($1) }
        #expect(gaps.count == 3)
        // The policy's delays are exact; the observed gaps can only be late (a loaded CI machine
        // schedules tasks late), so they are checked against the lower bound and a loose ceiling.
        #expect(recorder.restartDelays("crashy") == [.seconds(0.1), .seconds(0.2), .seconds(0.4)])
        for (gap, expected) in zip(gaps, [0.1, 0.2, 0.4]) {
            #expect(gap >= expected * 0.95 && gap < expected + 2, "backoff \(gap) ≈ \(expected)")
        }
        #expect(recorder.starts("steady").count == 1, "sibling never restarted")
        try await Task.sleep(for: .seconds(0.5))
        #expect(recorder.starts("crashy").count == 4, "failed child rests during its cooldown")
        await supervisor.stopAll()
    }

    @Test("a permanent child that returns is restarted; a transient one is not")
    func restartTypes() async throws {
        let recorder = Recorder()
        let supervisor = Supervisor(intensity: intensity) { event in recorder.events.withLock { $0.append(event) } }
        await supervisor.start(ChildSpec(id: "permanent", restart: .permanent) { recorder.started("permanent") })
        await supervisor.start(ChildSpec(id: "transient", restart: .transient) { recorder.started("transient") })
        _ = try await eventually("permanent restarted", timeout: 5) { recorder.starts("permanent").count >= 2 ? true : nil }
        try await Task.sleep(for: .seconds(0.3))
        #expect(recorder.starts("transient").count == 1)
        await supervisor.stopAll()
    }

    @Test("stop cancels a child and waits for it")
    func stop() async throws {
        let recorder = Recorder()
        let finished = Mutex(false)
        let supervisor = Supervisor(intensity: intensity) { _ in }
        await supervisor.start(ChildSpec(id: "a") {
            recorder.started("a")
            do { try await Task.sleep(for: .seconds(60)) } catch { finished.withLock { $0 = true }; throw error }
        })
        _ = try await eventually("a started", timeout: 5) { recorder.starts("a").count == 1 ? true : nil }
        await supervisor.stop("a")
        #expect(finished.withLock { $0 })
        #expect(await supervisor.childIDs.isEmpty)
    }

    @Test("20 concurrent starts of one id leave exactly one running child (state re-checked after every await)")
    func concurrentStarts() async throws {
        let running = Mutex(0)
        let supervisor = Supervisor(intensity: intensity) { _ in }
        let spec = ChildSpec(id: "one") {
            running.withLock { $0 += 1 }
            defer { running.withLock { $0 -= 1 } }
            // Stopping takes a moment, so concurrent starts overlap inside `stop`.
            try? await Task.sleep(for: .seconds(60))
            try? await Task.sleep(for: .milliseconds(20))
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { await supervisor.start(spec) } }
        }
        _ = try await eventually("one child running", timeout: 5) { running.withLock { $0 } >= 1 ? true : nil }
        try await Task.sleep(for: .milliseconds(200))
        #expect(running.withLock { $0 } == 1)
        #expect(await supervisor.childIDs == ["one"])
        await supervisor.stopAll()
        #expect(running.withLock { $0 } == 0)
    }
}
