import DeviceActor
import HPCore
import Supervisor
import Testing

@Suite("Poll schedule, backoff and restart policy (pure)", .harnessThreads)
struct ScheduleTests {
    let t0 = ContinuousClock.now

    @Test("polls stay on the grid; overruns skip ticks and are counted")
    func grid() {
        var m = PollStateMachine(start: t0, offset: .seconds(1), interval: .seconds(10), backoff: Backoff(initial: .seconds(1), cap: .seconds(8)))
        #expect(m.due == t0 + .seconds(1))
        #expect(m.pollSucceeded(now: t0 + .seconds(1.2)) == t0 + .seconds(11))
        #expect(m.overruns == 0)
        // This poll took 25 s: ticks at 21 and 31 are skipped, never stacked.
        #expect(m.pollSucceeded(now: t0 + .seconds(36)) == t0 + .seconds(41))
        #expect(m.overruns == 2)
    }

    @Test("failure → exponential backoff with jitter and cap; success re-joins the grid")
    func backoff() {
        var m = PollStateMachine(start: t0, offset: .zero, interval: .seconds(10), backoff: Backoff(initial: .seconds(1), cap: .seconds(8)))
        var delays: [Duration] = []
        var now = t0
        for _ in 0..<6 {
            let (at, delay) = m.pollFailed(now: now, jitter: 0.999)
            delays.append(delay)
            #expect(at == now + delay)
            now = at
        }
        #expect(m.state == .backoff)
        let seconds = delays.map { ($0 / .seconds(1) * 10).rounded() / 10 }
        #expect(seconds == [1, 2, 4, 8, 8, 8])
        var low = Backoff(initial: .seconds(4), cap: .seconds(60))
        #expect(low.next(jitter: 0) == .seconds(2), "equal jitter: at least half the delay")
        let next = m.pollSucceeded(now: t0 + .seconds(33))
        #expect(next == t0 + .seconds(40) && m.state == .polling)
    }

    @Test("slot offsets spread devices over the interval and are stable")
    func spread() {
        let offsets = (0..<200).map { PollStateMachine.spreadOffset(id: "hp-\($0)", interval: .seconds(10)) / .seconds(1) }
        #expect(offsets.allSatisfy { $0 >= 0 && $0 < 10 })
        let buckets = Dictionary(grouping: offsets) { Int($0) }
        #expect(buckets.count == 10 && buckets.values.allSatisfy { $0.count > 5 }, "no thundering herd")
        #expect(PollStateMachine.spreadOffset(id: "x", interval: .seconds(10)) == PollStateMachine.spreadOffset(id: "x", interval: .seconds(10)))
    }

    let intensity = RestartIntensity(maxRestarts: 3, window: .seconds(60), backoffInitial: .seconds(1), backoffMax: .seconds(5), failedCooldown: .seconds(600))

    @Test("restart policy: backoff grows per recent failure, intensity exceeded → failed")
    func restartPolicy() {
        var history: [ContinuousClock.Instant] = []
        var decisions: [RestartDecision] = []
        for i in 0..<4 {
            let (decision, kept) = RestartPolicy.decide(failures: history, now: t0 + .seconds(Double(i)), intensity: intensity)
            decisions.append(decision)
            history = kept
        }
        #expect(decisions == [.restart(after: .seconds(1)), .restart(after: .seconds(2)), .restart(after: .seconds(4)), .fail(cooldown: .seconds(600))])
        #expect(history.isEmpty)
    }

    @Test("restart policy: failures outside the window are forgotten")
    func window() {
        let old = [t0, t0 + .seconds(1), t0 + .seconds(2)]
        let (decision, kept) = RestartPolicy.decide(failures: old, now: t0 + .seconds(120), intensity: intensity)
        #expect(decision == .restart(after: .seconds(1)))
        #expect(kept == [t0 + .seconds(120)])
    }

    @Test("poll timers are coalesced onto shared ticks: never early, at most one tick late, one expiry per tick")
    func ticks() {
        #expect(PollTick.tick(interval: 10) == 0.1 && PollTick.tick(interval: 1) == 0.01 && PollTick.tick(interval: 0.05) == 0.0005)
        for interval in [0.05, 1, 10, 3600] {
            let tick = PollTick.tick(interval: interval)
            // 1,000 devices spread over one interval.
            let dues = (0..<1000).map { t0 + .seconds(Double($0) * interval / 1000 + 0.000_3) }
            let fired = dues.map { PollTick.coalesced($0, interval: interval) }
            for (due, at) in zip(dues, fired) {
                #expect(at >= due && (at - due) / .seconds(1) <= tick + 1e-9)
            }
            let expiries = Set(fired.map { ($0 - t0) / .seconds(1) }).count
            #expect(expiries <= Int((interval / tick).rounded(.up)) + 1, "\(expiries) distinct expiries for interval \(interval)")
        }
    }
}
