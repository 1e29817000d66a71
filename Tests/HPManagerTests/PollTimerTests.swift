import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// The device actor's poll timer (one scheduled callback per wait on the link's loop) against hpsim.
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
}
