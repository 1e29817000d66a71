@testable import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// The device actor's poll timer (waits grouped by instant on the link's loop, `LoopTimers`) against hpsim.
@Suite("Poll timer on the link's event loop", .harnessThreads, .serialized)
struct PollTimerTests {
    static let registers = [RegisterDefinition(name: "r0", address: 0), RegisterDefinition(name: "r1", address: 1)]

    @Test("polls follow the interval: no wait ends early, and every wait ends")
    func interval() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        let sink = RecordingSink()
        let task = Fixtures.spawn(Fixtures.runtime(id: "timer", port: sim.ports[0], registers: Self.registers, interval: 0.2), link: link, sink: sink)
        defer { task.cancel() }
        let reports = try await eventually("six polls", timeout: 10) { sink.reports(for: "timer").count >= 6 ? sink.reports(for: "timer") : nil }
        // The slot each poll was due at: its start minus how late it started. Slots, not starts, so
        // that a late poll followed by a punctual one (a busy machine) is not mistaken for an early
        // wait; a wait that ends early starts before its slot (lag 0), so its slot gap shrinks.
        let slots = reports.map { $0.timestamp - $0.status.pollLag }
        let gaps = zip(slots.dropFirst(), slots).map { $0 - $1 }
        #expect(reports.allSatisfy { $0.status.up && $0.samples.count == 2 })
        #expect(gaps.allSatisfy { $0 > 0.15 }, "poll slots 0.2 s apart, none early: \(gaps)")
    }

    @Test("a device cancelled while it waits for its slot stops at once")
    func cancelWhileWaiting() async throws {
        let interval = 60.0
        // An id whose first slot lies far in the future: the actor is waiting on its timer when cancelled.
        let id = (0..<100).map { "waiting\($0)" }.first {
            PollStateMachine.spreadOffset(id: $0, interval: .seconds(interval)) > .seconds(20)
        } ?? "waiting"
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: try freeLoopbackPort()), loop: Fixtures.loops.next())
        defer { link.close() }
        let board = DeviceStatusBoard()
        let actor = DeviceActor(runtime: Fixtures.runtime(id: id, port: 1, registers: Self.registers, interval: interval), link: link,
                                sink: RecordingSink(), board: board, logger: LogCapture().logger)
        let task = Task { try await actor.run() }
        _ = try await eventually("actor started", timeout: 5) { board.snapshot.state == .connecting ? true : nil }
        let started = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // Its slot is more than 20 s away: 10 s tells "at once" from "at its slot" on a loaded machine
        // too (a 2 s bound once failed at 3.5 s in make test's realtime pass).
        #expect(ContinuousClock.now - started < .seconds(10), "cancelled in its wait, not at its slot")
        #expect(board.snapshot.pollsTotal == 0)
    }

    @Test("waits ending at the same instant share one timer entry; the last one leaving removes it")
    func sharedInstants() async throws {
        let loop = Fixtures.loops.next()
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: 1), loop: loop)
        defer { link.close() }
        let devices = (0..<4).map { i in
            DeviceActor(runtime: Fixtures.runtime(id: "shared\(i)", port: 1, registers: Self.registers, interval: 60), link: link,
                        sink: RecordingSink(), board: DeviceStatusBoard(), logger: LogCapture().logger)
        }
        let soon = ContinuousClock.now + .milliseconds(300)
        let later = ContinuousClock.now + .seconds(60)
        let timers = link.timers
        let counts = try await loop.submit {
            try timers.assumeIsolated { t -> [Int] in
                for device in devices.prefix(3) { try t.add(LoopTimers.Waiter(device: device, generation: 1), at: soon) }
                try t.add(LoopTimers.Waiter(device: devices[3], generation: 1), at: later)
                let shared = t.pendingInstants  // four waits, two instants
                t.remove(device: devices[0], generation: 2, at: soon)  // another wait of that device: nothing
                t.remove(device: devices[0], generation: 1, at: soon)
                let oneLeft = t.pendingInstants  // two devices still wait for `soon`
                t.remove(device: devices[3], generation: 1, at: later)
                return [shared, oneLeft, t.pendingInstants]
            }
        }.get()
        #expect(counts == [2, 2, 1])
        // `soon` still fires for the two devices left, and takes its entry with it.
        let deadline = ContinuousClock.now + .seconds(10)
        var pending = 1
        while pending > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            pending = try await loop.submit { timers.assumeIsolated { $0.pendingInstants } }.get()
        }
        #expect(pending == 0, "the shared instant fired")
    }
}
