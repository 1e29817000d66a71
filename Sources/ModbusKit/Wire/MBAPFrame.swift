/// Modbus TCP framing (MBAP header: transaction id, protocol id 0, length, unit id).
public struct MBAPFrame: Sendable, Hashable {
    public static let headerLength = 7
    /// Length field: unit id + PDU; a PDU is at most 253 bytes.
    public static let maxLengthField = 254

    public var transactionID: UInt16
    public var unitID: UInt8
    public var pdu: [UInt8]

    public init(transactionID: UInt16, unitID: UInt8, pdu: [UInt8]) {
        self.transactionID = transactionID
        self.unitID = unitID
        self.pdu = pdu
    }

    /// The request frame for `request` (validated) addressed to `unit`.
    public static func request(_ request: ModbusRequest, transactionID: UInt16, unit: UInt8) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(truncatingIfNeeded: transactionID >> 8), UInt8(truncatingIfNeeded: transactionID), 0, 0, 0, 0, unit]
        bytes.reserveCapacity(headerLength + 6 + 2 * request.count)
        request.encodePDU(into: &bytes)
        let length = bytes.count - 6
        bytes[4] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[5] = UInt8(truncatingIfNeeded: length)
        return bytes
    }

    /// A parsed header: how many bytes the whole frame takes.
    public struct Header: Sendable, Hashable {
        public var transactionID: UInt16
        public var unitID: UInt8
        public var frameLength: Int
    }

    /// Validates a header (the first 7 bytes). A wrong protocol id or an impossible length means the
    /// stream cannot be trusted any more: the connection must be dropped.
    public static func parseHeader(_ b: some RandomAccessCollection<UInt8>) throws(ModbusError) -> Header {
        precondition(b.count >= headerLength)
        let i = b.startIndex
        func at(_ n: Int) -> UInt16 { UInt16(b[b.index(i, offsetBy: n)]) }
        let tid = at(0) << 8 | at(1)
        let protocolID = at(2) << 8 | at(3)
        let length = Int(at(4) << 8 | at(5))
        guard protocolID == 0 else {
            throw ModbusError(operation: "receive", code: ModbusError.protocolViolationCode, message: "invalid response: MBAP protocol id \(protocolID), expected 0")
        }
        guard (2...maxLengthField).contains(length) else {
            throw ModbusError(operation: "receive", code: ModbusError.protocolViolationCode, message: "invalid response: MBAP length \(length) (2…254)")
        }
        return Header(transactionID: tid, unitID: UInt8(truncatingIfNeeded: at(6)), frameLength: 6 + length)
    }
}
