import DeviceActor
import Foundation
import HPCore
import ModbusKit
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import Synchronization
import Testing
import TestSupport

/// The event-driven TCP link against scripted peers: byte identity with libmodbus, and strictness
/// about every answer (unit, protocol id, length, transaction id, one overall deadline).
@Suite("Modbus TCP link", .harnessThreads)
struct ModbusLinkTests {
    static let requests: [ModbusRequest] = [
        .readCoils(address: 7, count: 19),
        .readDiscreteInputs(address: 0, count: 2000),
        .readHoldingRegisters(address: 40001, count: 125),
        .readInputRegisters(address: 65535, count: 1),
        .writeSingleCoil(address: 12, value: true),
        .writeSingleCoil(address: 13, value: false),
        .writeSingleRegister(address: 300, value: 0xBEEF),
        .writeMultipleRegisters(address: 1000, values: [1, 0xFFFF, 0x8000]),
    ]

    static func link(_ peer: ScriptedModbusPeer) -> ModbusLink {
        ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: peer.port), loop: Fixtures.loops.next())
    }

    static let normal: ScriptedModbusPeer.Script = { tid, unit, pdu in [.bytes(ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu))] }

    @Test("requests are byte-identical to libmodbus' for every function code", arguments: requests)
    func byteIdentical(_ request: ModbusRequest) async throws {
        let closeAtOnce: ScriptedModbusPeer.Script = { _, _, _ in [.close] }
        let ours = try ScriptedModbusPeer(group: Fixtures.loops, script: closeAtOnce)
        let theirs = try ScriptedModbusPeer(group: Fixtures.loops, script: closeAtOnce)
        defer { ours.stop(); theirs.stop() }
        let link = Self.link(ours)
        defer { link.close() }
        _ = try? await link.transact(request, unit: 17, timeout: 1)
        let client = try ModbusClient(.tcp(host: "127.0.0.1", port: theirs.port))
        client.setResponseTimeout(seconds: 0.5)
        try client.connect()
        try client.setUnit(17)
        _ = try? client.perform(request)
        client.close()
        #expect(ours.requests.count == 1 && theirs.requests.count == 1)
        #expect(ours.requests.first == theirs.requests.first, "ours \(ours.requests) libmodbus \(theirs.requests)")
    }

    @Test("replies decode to the values the peer sent")
    func replies() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops, script: Self.normal)
        defer { peer.stop() }
        let link = Self.link(peer)
        defer { link.close() }
        let words = try await link.transact(.readHoldingRegisters(address: 500, count: 3), unit: 1, timeout: 1).reply
        #expect(words == .registers([500, 501, 502]))
        let bits = try await link.transact(.readCoils(address: 0, count: 10), unit: 1, timeout: 1).reply
        #expect(bits == .bits([true, false, true, false, true, false, true, false, true, false]))
        #expect(try await link.transact(.writeSingleRegister(address: 9, value: 5), unit: 1, timeout: 1).reply == .written)
    }

    @Test("an answer from the wrong unit is rejected and counted; the connection stays")
    func wrongUnit() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            [.bytes(ScriptedModbusPeer.answer(tid: tid, unit: unit == 2 ? 3 : unit, pdu: pdu))]
        }
        defer { peer.stop() }
        let link = Self.link(peer)
        defer { link.close() }
        await #expect { try await link.transact(.readHoldingRegisters(address: 0, count: 1), unit: 2, timeout: 1) } throws: {
            ($0 as? ModbusError)?.code == ModbusError.wrongUnitCode
        }
        #expect(try await link.transact(.readHoldingRegisters(address: 4, count: 1), unit: 1, timeout: 1).reply == .registers([4]))
        #expect(link.currentStatistics.protocolErrors == 1)
        #expect(link.currentStatistics.connects == 1)
    }

    @Test("a wrong protocol id or an MBAP length of 0 drops the connection; the next request reconnects",
          arguments: [(UInt16(1), nil), (UInt16(0), 0), (UInt16(0), 1), (UInt16(0), 300)] as [(UInt16, Int?)])
    func brokenHeader(protocolID: UInt16, length: Int?) async throws {
        let served = Mutex(0)
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            let first = served.withLock { n -> Bool in n += 1; return n == 1 }
            let good = ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu)
            return first ? [.bytes(ScriptedModbusPeer.frame(tid: tid, unit: unit, pdu: Array(good[7...]), protocolID: protocolID, length: length))]
                : [.bytes(good)]
        }
        defer { peer.stop() }
        let link = Self.link(peer)
        defer { link.close() }
        await #expect { try await link.transact(.readHoldingRegisters(address: 0, count: 2), unit: 1, timeout: 1) } throws: {
            ($0 as? ModbusError)?.isProtocolViolation == true
        }
        #expect(try await link.transact(.readHoldingRegisters(address: 8, count: 1), unit: 1, timeout: 1).reply == .registers([8]))
        #expect(link.currentStatistics.protocolErrors == 1)
        #expect(link.currentStatistics.connects == 2)
    }

    @Test("a duplicated answer is discarded by transaction id; the next request gets its own answer")
    func duplicateAnswers() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            let answer = ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu)
            return [.bytes(answer), .bytes(answer)]
        }
        defer { peer.stop() }
        let link = Self.link(peer)
        defer { link.close() }
        for address in [10, 20, 30] {
            #expect(try await link.transact(.readHoldingRegisters(address: address, count: 1), unit: 1, timeout: 1).reply == .registers([UInt16(address)]))
        }
        let stats = try await eventually("stale answers counted", timeout: 2) { link.currentStatistics.staleResponses >= 3 ? link.currentStatistics : nil }
        #expect(stats.staleResponses == 3 && stats.protocolErrors == 0)
    }

    @Test("a late answer (after the deadline) is discarded, never booked to the next request")
    func lateAnswer() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            let answer = ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu)
            return pdu[2] == 1 ? [.trickle(answer, interval: .milliseconds(30))] : [.bytes(answer)]  // address 1 answers in ~0.5 s
        }
        defer { peer.stop() }
        let link = Self.link(peer)
        defer { link.close() }
        await #expect { try await link.transact(.readHoldingRegisters(address: 1, count: 2), unit: 1, timeout: 0.2) } throws: {
            ($0 as? ModbusError)?.isTimeout == true
        }
        #expect(try await link.transact(.readHoldingRegisters(address: 2, count: 2), unit: 1, timeout: 2).reply == .registers([2, 3]))
    }

    @Test("slow-loris: one overall deadline per request, however the bytes trickle in")
    func slowLoris() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            [.trickle(ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu), interval: .milliseconds(100))]
        }
        defer { peer.stop() }
        let link = Self.link(peer)
        defer { link.close() }
        let started = ContinuousClock.now
        await #expect { try await link.transact(.readHoldingRegisters(address: 0, count: 10), unit: 1, timeout: 0.5) } throws: {
            ($0 as? ModbusError)?.isTimeout == true
        }
        let elapsed = (ContinuousClock.now - started) / .seconds(1)
        #expect(elapsed < 2.2, "a 27-byte answer at 10 bytes/s would take 2.7 s; the 0.5 s deadline ended it after \(elapsed) s")
    }

    @Test("an unresolvable host is reported as a DNS failure, a closed port as refused")
    func connectCauses() async throws {
        let dns = ModbusLink(endpoint: .tcp(host: "no-such-host.invalid", port: 502), loop: Fixtures.loops.next())
        defer { dns.close() }
        await #expect { try await dns.transact(.readHoldingRegisters(address: 0, count: 1), unit: 1, timeout: 2) } throws: {
            ($0 as? ModbusError)?.isDNSFailure == true
        }
        let port = try freeLoopbackPort()
        let refused = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { refused.close() }
        await #expect { try await refused.transact(.readHoldingRegisters(address: 0, count: 1), unit: 1, timeout: 2) } throws: {
            ($0 as? ModbusError)?.code == ECONNREFUSED
        }
    }

    @Test("cancelling a waiting request frees it at once and closing fails every waiter")
    func cancelAndClose() async throws {
        let silent: ScriptedModbusPeer.Script = { _, _, _ in [] }
        let peer = try ScriptedModbusPeer(group: Fixtures.loops, script: silent)
        defer { peer.stop() }
        let link = Self.link(peer)
        let started = ContinuousClock.now
        let waiter = Task { try await link.transact(.readHoldingRegisters(address: 0, count: 1), unit: 1, timeout: 30) }
        _ = try await eventually("request sent", timeout: 2) { peer.requests.isEmpty ? nil : true }
        // Started only once the first request is in flight, and cancelled only once this one queues
        // behind it: two tasks started together may reach the link in either order (make test's
        // realtime pass once sent this one first, and the cancel then freed nothing in flight).
        let queued = Task { try await link.transact(.readHoldingRegisters(address: 1, count: 1), unit: 1, timeout: 30) }
        let deadline = ContinuousClock.now + .seconds(2)
        while await link.queuedRequests == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(await link.queuedRequests == 1, "the second request waits behind the first")
        #expect(peer.requests.count == 1)
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        _ = try await eventually("queued request sent after the cancel", timeout: 2) { peer.requests.count >= 2 ? true : nil }
        link.close()
        await #expect { try await queued.value } throws: { ($0 as? ModbusError)?.code == ECONNABORTED }
        #expect((ContinuousClock.now - started) < .seconds(3))
    }

    @Test("requests out of protocol range are refused before anything is sent")
    func invalidRequests() async throws {
        let peer = try ScriptedModbusPeer(group: Fixtures.loops, script: Self.normal)
        defer { peer.stop() }
        let link = Self.link(peer)
        defer { link.close() }
        for request: ModbusRequest in [.readHoldingRegisters(address: 0, count: 126), .readHoldingRegisters(address: 65535, count: 2),
                                        .readCoils(address: -1, count: 1), .writeMultipleRegisters(address: 0, values: [])] {
            await #expect(throws: ModbusError.self) { try await link.transact(request, unit: 1, timeout: 1) }
        }
        await #expect(throws: ModbusError.self) { try await link.transact(.readHoldingRegisters(address: 0, count: 1), unit: 256, timeout: 1) }
        #expect(peer.requests.isEmpty)
    }
}
