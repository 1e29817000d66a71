@testable import DeviceActor
import ModbusKit
import NIOCore
import Testing
import TestSupport

/// The link's in-place answer parsing (`MBAPAnswer`, `ModbusTCPResponseHandler`) against the
/// reference parser (`ModbusRequest.parseResponse`) and against a peer that coalesces and splits frames.
@Suite("Modbus answers parsed in place", .harnessThreads)
struct ModbusAnswerTests {
    /// The same reply, or the same error (code and message), from both parsers.
    static func same(_ request: ModbusRequest, _ pdu: [UInt8]) -> Bool {
        var buffer = ByteBufferAllocator().buffer(capacity: pdu.count + 3)
        buffer.writeBytes([9, 9, 9])  // the PDU starts inside the buffer, as it does in a receive buffer
        buffer.moveReaderIndex(forwardBy: 3)
        buffer.writeBytes(pdu)
        let ours = Result { () throws(ModbusError) in try MBAPAnswer.parse(request, pdu: buffer) }
        let reference = Result { () throws(ModbusError) in try request.parseResponse(pdu[...]) }
        switch (ours, reference) {
        case (.success(let a), .success(let b)): return a == b
        case (.failure(let a), .failure(let b)): return a.code == b.code && a.message == b.message && a.operation == b.operation
        default: return false
        }
    }

    static func registers(_ function: UInt8, _ words: [UInt16]) -> [UInt8] {
        [function, UInt8(truncatingIfNeeded: 2 * words.count)] + words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static let cases: [(ModbusRequest, [UInt8])] = [
        (.readHoldingRegisters(address: 0, count: 1), registers(3, [0xBEEF])),
        (.readHoldingRegisters(address: 0, count: 3), registers(3, [1, 0x8000, 0xFFFF])),
        (.readInputRegisters(address: 9, count: 125), registers(4, (0..<125).map { UInt16($0 * 523 & 0xFFFF) })),
        (.readInputRegisters(address: 9, count: 2), registers(3, [1, 2])),  // wrong function
        (.readHoldingRegisters(address: 0, count: 2), registers(3, [1])),  // too few words
        (.readHoldingRegisters(address: 0, count: 2), registers(3, [1, 2, 3])),  // too many words
        (.readHoldingRegisters(address: 0, count: 2), [3, 4, 0, 1, 0, 2, 0]),  // a byte after the words
        (.readHoldingRegisters(address: 0, count: 2), [3, 5, 0, 1, 0, 2]),  // byte count disagrees with the length
        (.readHoldingRegisters(address: 0, count: 2), [3, 4, 0, 1, 0]),  // truncated
        (.readHoldingRegisters(address: 0, count: 2), [3]),
        (.readHoldingRegisters(address: 0, count: 2), [0x83, 2]),  // Illegal Data Address
        (.readInputRegisters(address: 0, count: 2), [0x84, 12]),  // unknown exception code
        (.readInputRegisters(address: 0, count: 2), [0x84, 2, 0]),  // exception of 3 bytes
        (.readCoils(address: 0, count: 10), [1, 2, 0x55, 0x01]),
        (.readDiscreteInputs(address: 0, count: 9), [2, 1, 0xFF]),  // byte count too small
        (.writeSingleRegister(address: 300, value: 0xBEEF), [6, 0x01, 0x2C, 0xBE, 0xEF]),
        (.writeSingleRegister(address: 300, value: 0xBEEF), [6, 0x01, 0x2C, 0xBE, 0xEE]),  // wrong echo
        (.writeSingleCoil(address: 12, value: true), [5, 0, 12, 0xFF, 0]),
        (.writeMultipleRegisters(address: 1000, values: [1, 2]), [16, 0x03, 0xE8, 0, 2]),
        (.writeMultipleRegisters(address: 1000, values: [1, 2]), [16, 0x03, 0xE8, 0, 3]),
    ]

    @Test("in-place parsing gives the reference parser's reply or error", arguments: cases.indices)
    func table(_ index: Int) {
        let (request, pdu) = Self.cases[index]
        #expect(Self.same(request, pdu), "\(request) \(pdu)")
    }

    @Test("random register answers: in-place parsing agrees with the reference parser")
    func random() {
        var rng = SplitMix64(seed: 0x9E37_79B9)
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 125) + 1
            let request: ModbusRequest = rng.next() % 2 == 0 ? .readHoldingRegisters(address: 0, count: n) : .readInputRegisters(address: 0, count: n)
            var pdu = Self.registers(request.functionCode, (0..<n).map { _ in UInt16(truncatingIfNeeded: rng.next()) })
            switch rng.next() % 6 {  // most answers stay well formed; the rest break one check
            case 0: pdu[0] = UInt8(truncatingIfNeeded: rng.next())
            case 1: pdu[1] = UInt8(truncatingIfNeeded: rng.next())
            case 2: pdu.removeLast(Int(rng.next() % UInt64(pdu.count)))
            case 3: pdu.append(UInt8(truncatingIfNeeded: rng.next()))
            default: break
            }
            if !Self.same(request, pdu) { mismatches.append("\(request) \(pdu)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(3))")
    }

    @Test("an answer and the start of the next one in one segment: the rest of it completes the next answer",
          arguments: [1, 6, 7, 8, 10])
    func coalescedAndSplit(split: Int) async throws {
        let second = ModbusRequest.readHoldingRegisters(address: 20, count: 3)
        let peer = try ScriptedModbusPeer(group: Fixtures.loops) { tid, unit, pdu in
            var next = [UInt8]()
            MBAPFrame.appendRequest(second, transactionID: tid &+ 1, unit: unit, to: &next)
            let following = ScriptedModbusPeer.answer(tid: tid &+ 1, unit: unit, pdu: Array(next[7...]))
            if pdu[2] == 10 {  // the first request: its answer plus the first bytes of the next one
                return [.bytes(ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu) + following.prefix(split))]
            }
            return [.bytes(Array(ScriptedModbusPeer.answer(tid: tid, unit: unit, pdu: pdu).dropFirst(split)))]
        }
        defer { peer.stop() }
        let link = ModbusLinkTests.link(peer)
        defer { link.close() }
        #expect(try await link.transact(.readHoldingRegisters(address: 10, count: 2), unit: 1, timeout: 2).reply == .registers([10, 11]))
        #expect(try await link.transact(second, unit: 1, timeout: 2).reply == .registers([20, 21, 22]))
        #expect(link.currentStatistics.staleResponses == 0 && link.currentStatistics.protocolErrors == 0)
        #expect(link.currentStatistics.connects == 1)
    }
}
