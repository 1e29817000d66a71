import Testing
@testable import Sinks

/// The wake-up the notifier's loops wait on instead of polling every 100 ms.
@Suite("Doorbell: a wait ends at its bound or at a ring", .harnessThreads)
struct DoorbellTests {
    @Test("a ring while nobody waits ends the next wait at once, and only that one")
    func ringBeforeWait() async {
        let bell = Doorbell()
        bell.ring()
        let clock = ContinuousClock()
        let first = await clock.measure { await bell.wait(atMost: .seconds(30)) }
        #expect(first < .seconds(10), "rung before: returns at once")
        let second = await clock.measure { await bell.wait(atMost: .milliseconds(200)) }
        #expect(second >= .milliseconds(150), "the ring was used up: this wait lasts its bound")
    }

    @Test("a ring ends a wait in progress")
    func ringDuringWait() async {
        let bell = Doorbell()
        let clock = ContinuousClock()
        let started = clock.now
        async let waited: Void = bell.wait(atMost: .seconds(60))
        // Ring until the wait is over: the first ring may come before the waiter is registered
        // (then it is kept for the wait, which returns at once, as the other test checks).
        try? await Task.sleep(for: .milliseconds(50))
        bell.ring()
        await waited
        #expect(clock.now - started < .seconds(30), "ended by the ring, not after 60 s")
    }

    @Test("a cancelled waiter returns")
    func cancelledWait() async {
        let bell = Doorbell()
        let task = Task { await bell.wait(atMost: .seconds(60)) }
        let clock = ContinuousClock()
        let started = clock.now
        try? await Task.sleep(for: .milliseconds(50))
        task.cancel()
        await task.value
        #expect(clock.now - started < .seconds(30))
    }
}
