import DeviceActor
import Drivers
import Foundation
import HPCore
import ModbusKit
import NIOCore
import Testing
import TestSupport

/// A poll goes to the link as one batch: its requests leave back to back on a shared gateway (one
/// resumption of the device per poll), priority requests still go first, and a dark unit's batch ends
/// at its first deadline.
@Suite("Modbus link batches", .harnessThreads)
struct ModbusLinkBatchTests {
    /// Three holding registers far apart: three requests per poll.
    static let registers = [0, 200, 400].map { RegisterDefinition(name: "r\($0)", address: $0) }
    static let plan = registers.indices.map { ReadRequest(registerType: .holding, address: registers[$0].address, count: 1, members: [$0]) }

    /// Unit of every request frame the peer received, in order.
    static func units(_ peer: ScriptedModbusPeer) -> [UInt8] { peer.requests.map { $0[6] } }

    /// Unit 1 answers slowly (bytes 50 ms apart, ~0.55 s per answer), so requests of others queue meanwhile.
    static let slowUnitOne: ScriptedModbusPeer.Script = { tid, unit, pdu in
        let answer = ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu)
        return unit == 1 ? [.trickle(answer, interval: .milliseconds(50))] : [.bytes(answer)]
    }

    @Test("a poll's requests leave back to back: a neighbour queued behind its first request waits for the whole poll")
    func pollIsContiguous() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops, script: Self.slowUnitOne)
        defer { peer.stop() }
        let link = ModbusLinkTests.link(peer)
        defer { link.close() }
        let executor = PollExecutor(unitID: 1, timeout: 2, registers: Self.registers)
        let poll = Task { try await executor.execute(Self.plan, on: link) }
        _ = try await eventually("first request of the poll sent", timeout: 2) { peer.requests.isEmpty ? nil : true }
        let neighbour = Task { try await link.transact(.readHoldingRegisters(address: 7, count: 1), unit: 2, timeout: 2) }
        let outcome = try await poll.value
        #expect(try await neighbour.value.reply == .registers([7]))
        #expect(outcome.failure == nil && outcome.requests == 3 && outcome.samples.count == 3)
        #expect(outcome.samples.map(\.value.doubleValue) == [0, 200, 400])
        #expect(Self.units(peer) == [1, 1, 1, 2], "requests by unit: \(Self.units(peer))")
    }

    @Test("a priority request goes between two requests of a poll, ahead of the poll's rest")
    func priorityGoesFirst() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops, script: Self.slowUnitOne)
        defer { peer.stop() }
        let link = ModbusLinkTests.link(peer)
        defer { link.close() }
        let executor = PollExecutor(unitID: 1, timeout: 2, registers: Self.registers)
        let poll = Task { try await executor.execute(Self.plan, on: link) }
        _ = try await eventually("first request of the poll sent", timeout: 2) { peer.requests.isEmpty ? nil : true }
        let write = Task { try await link.transact(.writeSingleRegister(address: 9, value: 5), unit: 2, timeout: 2, priority: true) }
        _ = try await write.value
        let outcome = try await poll.value
        #expect(outcome.failure == nil && outcome.samples.count == 3)
        #expect(Self.units(peer) == [1, 2, 1, 1], "requests by unit: \(Self.units(peer))")
    }

    @Test("a dark unit's poll ends at its first deadline: one request sent, its neighbour served right after")
    func darkUnitCostsOneDeadline() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            unit == 9 ? [] : [.bytes(ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu))]
        }
        defer { peer.stop() }
        let link = ModbusLinkTests.link(peer)
        defer { link.close() }
        let dark = PollExecutor(unitID: 9, timeout: 0.3, registers: Self.registers)
        let started = ContinuousClock.now
        let poll = Task { try await dark.execute(Self.plan, on: link) }
        _ = try await eventually("dark unit's first request sent", timeout: 2) { peer.requests.isEmpty ? nil : true }
        let neighbour = try await link.transact(.readHoldingRegisters(address: 3, count: 1), unit: 1, timeout: 2)
        let waited = (ContinuousClock.now - started) / .seconds(1)
        let outcome = try await poll.value
        #expect(neighbour.reply == .registers([3]))
        #expect(outcome.failure?.isTimeout == true && outcome.requests == 1 && outcome.samples.isEmpty)
        #expect(Self.units(peer) == [9, 1], "requests by unit: \(Self.units(peer))")
        #expect(waited < 1.5, "the neighbour waited \(waited) s: more than one 0.3 s deadline")
    }

    @Test("Illegal Data Address in the middle of a poll: the answers before it are kept, the span bisected, the rest read")
    func exceptionMidBatch() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            let address = Int(pdu[1]) << 8 | Int(pdu[2])
            if address == 200 { return [.bytes(ScriptedModbusPeer.frame(tid: tid, unit: unit, pdu: [pdu[0] | 0x80, 2]))] }
            return [.bytes(ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu))]
        }
        defer { peer.stop() }
        let link = ModbusLinkTests.link(peer)
        defer { link.close() }
        let outcome = try await PollExecutor(unitID: 1, timeout: 2, registers: Self.registers).execute(Self.plan, on: link)
        #expect(outcome.failure == nil && outcome.requests == 3)
        #expect(outcome.rejected == [1] && outcome.answered == [0, 2])
        #expect(outcome.samples.map(\.value.doubleValue) == [0, 400])
    }
}
