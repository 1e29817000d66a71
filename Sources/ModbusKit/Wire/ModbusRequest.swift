/// One Modbus request PDU, independent of the transport (TCP frames it with MBAP, RTU with a CRC).
///
/// The byte layout is the Modbus Application Protocol v1.1b3 one, which libmodbus also sends: the
/// event-driven TCP client and libmodbus produce byte-identical requests (tested).
public enum ModbusRequest: Sendable, Hashable {
    /// FC01.
    case readCoils(address: Int, count: Int)
    /// FC02.
    case readDiscreteInputs(address: Int, count: Int)
    /// FC03.
    case readHoldingRegisters(address: Int, count: Int)
    /// FC04.
    case readInputRegisters(address: Int, count: Int)
    /// FC05.
    case writeSingleCoil(address: Int, value: Bool)
    /// FC06.
    case writeSingleRegister(address: Int, value: UInt16)
    /// FC16.
    case writeMultipleRegisters(address: Int, values: [UInt16])

    /// Protocol limits per request (Modbus Application Protocol §6).
    public static let maxReadRegisters = 125
    public static let maxReadBits = 2000
    public static let maxWriteRegisters = 123

    public var functionCode: UInt8 {
        switch self {
        case .readCoils: 1
        case .readDiscreteInputs: 2
        case .readHoldingRegisters: 3
        case .readInputRegisters: 4
        case .writeSingleCoil: 5
        case .writeSingleRegister: 6
        case .writeMultipleRegisters: 16
        }
    }

    public var address: Int {
        switch self {
        case .readCoils(let a, _), .readDiscreteInputs(let a, _), .readHoldingRegisters(let a, _), .readInputRegisters(let a, _),
             .writeSingleCoil(let a, _), .writeSingleRegister(let a, _), .writeMultipleRegisters(let a, _): a
        }
    }

    /// Registers or bits the request covers.
    public var count: Int {
        switch self {
        case .readCoils(_, let n), .readDiscreteInputs(_, let n), .readHoldingRegisters(_, let n), .readInputRegisters(_, let n): n
        case .writeSingleCoil, .writeSingleRegister: 1
        case .writeMultipleRegisters(_, let values): values.count
        }
    }

    /// The request as a short operation name for errors and logs.
    public var operation: String {
        switch self {
        case .readCoils: "read_bits"
        case .readDiscreteInputs: "read_input_bits"
        case .readHoldingRegisters: "read_registers"
        case .readInputRegisters: "read_input_registers"
        case .writeSingleCoil: "write_bit"
        case .writeSingleRegister: "write_register"
        case .writeMultipleRegisters: "write_registers"
        }
    }

    /// Checks addresses and counts against the protocol before anything is converted or sent.
    public func validate() throws(ModbusError) {
        let limit: Int = switch self {
        case .readCoils, .readDiscreteInputs: Self.maxReadBits
        case .readHoldingRegisters, .readInputRegisters: Self.maxReadRegisters
        case .writeSingleCoil, .writeSingleRegister: 1
        case .writeMultipleRegisters: Self.maxWriteRegisters
        }
        guard (0...0xFFFF).contains(address), (1...limit).contains(count), address + count <= 0x10000 else {
            throw ModbusError(operation: operation, code: ModbusError.invalidRequestCode,
                              message: "invalid request: address \(address), count \(count) (at most \(limit), addresses 0…65535)")
        }
    }

    /// Appends the PDU (function code and data) to `bytes`. Call `validate()` first.
    public func encodePDU(into bytes: inout [UInt8]) {
        func u16(_ v: Int) {
            bytes.append(UInt8(truncatingIfNeeded: v >> 8))
            bytes.append(UInt8(truncatingIfNeeded: v))
        }
        bytes.append(functionCode)
        switch self {
        case .readCoils(let a, let n), .readDiscreteInputs(let a, let n), .readHoldingRegisters(let a, let n), .readInputRegisters(let a, let n):
            u16(a); u16(n)
        case .writeSingleCoil(let a, let value):
            u16(a); u16(value ? 0xFF00 : 0)
        case .writeSingleRegister(let a, let value):
            u16(a); u16(Int(value))
        case .writeMultipleRegisters(let a, let values):
            u16(a); u16(values.count)
            bytes.append(UInt8(truncatingIfNeeded: values.count * 2))
            for v in values { u16(Int(v)) }
        }
    }

    /// Parses the response PDU to this request. Exceptions become `ModbusError` with the exception
    /// code; anything inconsistent with the request (function, byte count, echo) is a protocol error.
    public func parseResponse(_ pdu: ArraySlice<UInt8>) throws(ModbusError) -> ModbusReply {
        guard let function = pdu.first else { throw protocolError("empty response PDU") }
        if function == functionCode | 0x80 {
            guard pdu.count == 2 else { throw protocolError("exception response of \(pdu.count) bytes") }
            let exception = pdu[pdu.startIndex + 1]
            guard (1...11).contains(exception) else { throw protocolError("unknown exception code \(exception)") }
            throw ModbusError(operation: operation, code: ModbusError.exceptionCode(Int(exception)))
        }
        guard function == functionCode else { throw protocolError("response function \(function) to a request with function \(functionCode)") }
        let body = pdu.dropFirst()
        func u16(_ offset: Int) -> Int { Int(body[body.startIndex + offset]) << 8 | Int(body[body.startIndex + offset + 1]) }
        switch self {
        case .readHoldingRegisters(_, let n), .readInputRegisters(_, let n):
            guard let byteCount = body.first, Int(byteCount) == 2 * n, body.count == 1 + 2 * n else {
                throw protocolError("register response of \(body.count) bytes for \(n) registers")
            }
            var words = [UInt16](repeating: 0, count: n)
            for i in 0..<n { words[i] = UInt16(truncatingIfNeeded: u16(1 + 2 * i)) }
            return .registers(words)
        case .readCoils(_, let n), .readDiscreteInputs(_, let n):
            let expected = (n + 7) / 8
            guard let byteCount = body.first, Int(byteCount) == expected, body.count == 1 + expected else {
                throw protocolError("bit response of \(body.count) bytes for \(n) bits")
            }
            var bits = [Bool](repeating: false, count: n)
            for i in 0..<n { bits[i] = body[body.startIndex + 1 + i / 8] & (1 << UInt8(i % 8)) != 0 }
            return .bits(bits)
        case .writeSingleCoil(let a, let value):
            guard body.count == 4, u16(0) == a, u16(2) == (value ? 0xFF00 : 0) else { throw protocolError("write echo does not match the request") }
            return .written
        case .writeSingleRegister(let a, let value):
            guard body.count == 4, u16(0) == a, u16(2) == Int(value) else { throw protocolError("write echo does not match the request") }
            return .written
        case .writeMultipleRegisters(let a, let values):
            guard body.count == 4, u16(0) == a, u16(2) == values.count else { throw protocolError("write echo does not match the request") }
            return .written
        }
    }

    private func protocolError(_ message: String) -> ModbusError {
        ModbusError(operation: operation, code: ModbusError.protocolViolationCode, message: "invalid response: \(message)")
    }
}

/// What a successful request returned.
public enum ModbusReply: Sendable, Hashable {
    case registers([UInt16])
    case bits([Bool])
    case written
}
