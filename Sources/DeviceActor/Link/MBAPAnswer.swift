import ModbusKit
import NIOCore

/// Parses an answer PDU as it lies in the channel's receive buffer.
///
/// The common answer, registers to a register read, is checked (function, byte count, length) and
/// read straight into its words array: one allocation per answer. Everything else (exceptions, bits,
/// write echoes, and any register answer that fails a check) goes through `ModbusRequest.parseResponse`,
/// which gives the same errors as before; `MBAPAnswerTests` compares both paths.
enum MBAPAnswer {
    static func parse(_ request: ModbusRequest, pdu: ByteBuffer) throws(ModbusError) -> ModbusReply {
        switch request {
        case .readHoldingRegisters(_, let n), .readInputRegisters(_, let n):
            if let words = registers(pdu, function: request.functionCode, count: n) { return .registers(words) }
        default:
            break
        }
        return try request.parseResponse(ArraySlice(pdu.readableBytesView))
    }

    /// The `count` words of a well-formed register answer, or nil when any check fails.
    static func registers(_ pdu: ByteBuffer, function: UInt8, count n: Int) -> [UInt16]? {
        guard n > 0, n <= ModbusRequest.maxReadRegisters, pdu.readableBytes == 2 + 2 * n else { return nil }
        return pdu.withUnsafeReadableBytes { raw -> [UInt16]? in
            guard raw[0] == function, Int(raw[1]) == 2 * n else { return nil }
            return [UInt16](unsafeUninitializedCapacity: n) { words, initialized in
                for i in 0..<n { words[i] = UInt16(raw[2 + 2 * i]) << 8 | UInt16(raw[3 + 2 * i]) }
                initialized = n
            }
        }
    }
}
