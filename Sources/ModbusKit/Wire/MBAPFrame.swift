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
        var bytes: [UInt8] = []
        appendRequest(request, transactionID: transactionID, unit: unit, to: &bytes)
        return bytes
    }

    /// Appends the request frame to `bytes` (a link reuses one scratch buffer for every request).
    public static func appendRequest(_ request: ModbusRequest, transactionID: UInt16, unit: UInt8, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.reserveCapacity(start + headerLength + 6 + 2 * request.count)
        bytes.append(contentsOf: [UInt8(truncatingIfNeeded: transactionID >> 8), UInt8(truncatingIfNeeded: transactionID), 0, 0, 0, 0, unit])
        request.encodePDU(into: &bytes)
        let length = bytes.count - start - 6
        bytes[start + 4] = UInt8(truncatingIfNeeded: length >> 8)
        bytes[start + 5] = UInt8(truncatingIfNeeded: length)
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
        return try parseHeader(transactionID: at(0) << 8 | at(1), protocolID: at(2) << 8 | at(3), length: at(4) << 8 | at(5),
                               unitID: UInt8(truncatingIfNeeded: at(6)))
    }

    /// The same check on the header's fields as read from the wire (big-endian), without copying
    /// the bytes (the TCP decoder reads them straight from its buffer).
    public static func parseHeader(transactionID: UInt16, protocolID: UInt16, length: UInt16, unitID: UInt8) throws(ModbusError) -> Header {
        guard protocolID == 0 else {
            throw ModbusError(operation: "receive", code: ModbusError.protocolViolationCode, message: "invalid response: MBAP protocol id \(protocolID), expected 0")
        }
        guard (2...maxLengthField).contains(Int(length)) else {
            throw ModbusError(operation: "receive", code: ModbusError.protocolViolationCode, message: "invalid response: MBAP length \(length) (2…254)")
        }
        return Header(transactionID: transactionID, unitID: unitID, frameLength: 6 + Int(length))
    }
}
