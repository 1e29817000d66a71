import DeviceActor
import Foundation
import HPCore
@testable import Supervisor
import Testing
import TestSupport

@Suite("Fleet: config diff and supervisor events", .harnessThreads)
struct FleetTests {
    func runtime(_ id: String, port: Int = 502, name: String? = nil) -> DeviceRuntime {
        var r = Fixtures.runtime(id: id, port: port, registers: [RegisterDefinition(name: "t", address: 0)])
        if let name { r.device.name = name }
        return r
    }

    @Test("diff: added, removed, changed and unchanged")
    func diff() {
        let running = ["a": runtime("a"), "b": runtime("b"), "c": runtime("c")]
        let desired = ["a": runtime("a"), "b": runtime("b", name: "renamed"), "d": runtime("d")]
        let d = ConfigDiff.compute(running: running, desired: desired)
        #expect(d.added == ["d"] && d.removed == ["c"] && d.changed == ["b"] && d.unchanged == ["a"])
        #expect(ConfigDiff.compute(running: running, desired: running).isEmpty)
    }

    @Test("restart and failed events update the device's status board and reach the sinks")
    func events() {
        let sink = RecordingSink()
        let events = FleetEvents(sink: sink, logger: LogCapture().logger)
        let board = DeviceStatusBoard(DeviceStatus(state: .polling, up: true))
        let r = runtime("a")
        events.boards.set("a", BoardEntry(board: board, labels: r.labels))
        events.handle(.restarting(id: "a", error: "boom", delay: .seconds(1), restarts: 1))
        events.handle(.restarting(id: "a", error: "boom", delay: .seconds(2), restarts: 2))
        #expect(board.snapshot.restartsTotal == 2 && board.snapshot.state == .restarting && !board.snapshot.up)
        events.handle(.failed(id: "a", error: "boom", cooldown: .seconds(600)))
        #expect(board.snapshot.state == .failed && board.snapshot.lastError == "boom")
        events.handle(.restarting(id: "unknown", error: "x", delay: .zero, restarts: 1))
        #expect(sink.statusChanges.map(\.state) == [.restarting, .restarting, .failed], "unknown ids are ignored")
        #expect(sink.statusChanges.last?.restartsTotal == 2)
    }
}
