import CModbus
#if canImport(Glibc)
import Glibc
#endif

/// One libmodbus client context (TCP or RTU). Not thread-safe: its owner serialises all calls.
///
/// Every call blocks for up to the response timeout, so callers run it on a dedicated I/O thread.
public final class ModbusClient {
    public enum Transport: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case rtu(device: String, baudrate: Int, parity: Character, dataBits: Int, stopBits: Int)

        public var isSerial: Bool {
            if case .rtu = self { return true }
            return false
        }
    }

    private let context: OpaquePointer
    public let transport: Transport
    public private(set) var isConnected = false

    public init(_ transport: Transport) throws {
        self.transport = transport
        let created: OpaquePointer?
        switch transport {
        case .tcp(let host, let port):
            // The protocol-independent variant resolves host names (and IPv6) at connect time.
            created = modbus_new_tcp_pi(host, String(port))
        case .rtu(let device, let baudrate, let parity, let dataBits, let stopBits):
            let parityByte = CChar(parity.asciiValue ?? UInt8(ascii: "N"))  // ASCII is 0…127: fits a CChar
            created = modbus_new_rtu(device, try Self.cInt(baudrate, "baudrate", "modbus_new_rtu"), parityByte,
                                     try Self.cInt(dataBits, "data bits", "modbus_new_rtu"), try Self.cInt(stopBits, "stop bits", "modbus_new_rtu"))
        }
        guard let created else { throw ModbusError.last("modbus_new") }
        context = created
    }

    deinit {
        if isConnected { modbus_close(context) }
        modbus_free(context)
    }

    /// Sets how long to wait for a response (and between bytes of one response).
    /// Values outside 1 ms … 1 h are clamped (configuration rejects them before they get here).
    public func setResponseTimeout(seconds: Double) {
        let bounded = seconds.isFinite ? min(max(seconds, 0.001), 3600) : 3600
        let whole = UInt32(bounded.rounded(.down))
        let micros = UInt32(min(999_999, (bounded - Double(whole)) * 1_000_000))
        modbus_set_response_timeout(context, whole, micros)
        modbus_set_byte_timeout(context, whole, micros)
    }

    public func setUnit(_ unit: Int) throws {
        guard modbus_set_slave(context, try Self.cInt(unit, "unit id", "modbus_set_slave")) == 0 else { throw ModbusError.last("modbus_set_slave") }
    }

    public func connect() throws {
        if isConnected { return }
        guard modbus_connect(context) == 0 else { throw ModbusError.last("modbus_connect") }
        isConnected = true
        try keepDescriptorBelowSelectLimit()
    }

    /// libmodbus waits for answers with `select()`, whose sets hold descriptors below 1024 only; a
    /// higher one (a daemon with over a thousand TCP links reopening a serial port) would make
    /// `FD_SET` write past the set, which the fortified C library answers by aborting the process.
    /// Such a descriptor is moved to the lowest free number; with none below 1024 the connection is
    /// refused with an error instead.
    private func keepDescriptorBelowSelectLimit() throws {
        let fd = modbus_get_socket(context)
        guard fd >= Self.selectLimit else { return }
        let low = fcntl(fd, F_DUPFD_CLOEXEC, Int32(0))
        guard low >= 0, low < Self.selectLimit else {
            if low >= 0 { Glibc.close(low) }
            close()
            throw ModbusError(operation: "modbus_connect", code: EMFILE,
                              message: "descriptor \(fd) is beyond select()'s limit (1024) and none below it is free")
        }
        _ = modbus_set_socket(context, low)
        Glibc.close(fd)
    }

    /// `select()`'s limit.
    static let selectLimit = Int32(FD_SETSIZE)

    public func close() {
        guard isConnected else { return }
        modbus_close(context)
        isConnected = false
    }

    /// Discards bytes still in flight (e.g. a late answer after a timeout).
    public func flush() {
        _ = modbus_flush(context)
    }

    /// FC03 / FC04 into `words` (resized to `count`).
    public func readRegisters(input: Bool, address: Int, count: Int, into words: inout [UInt16]) throws {
        let operation = input ? "read_input_registers" : "read_registers"
        let cAddress = try Self.cInt(address, "address", operation), cCount = try Self.cCount(count, operation)
        if words.count != count { words = Array(repeating: 0, count: count) }
        let received = words.withUnsafeMutableBufferPointer { buffer in
            input
                ? modbus_read_input_registers(context, cAddress, cCount, buffer.baseAddress)
                : modbus_read_registers(context, cAddress, cCount, buffer.baseAddress)
        }
        guard received == count else {
            throw received < 0 ? ModbusError.last(input ? "read_input_registers" : "read_registers")
                : ModbusError(operation: "read_registers", code: hp_modbus_embmdata(), message: "short response: \(received) of \(count) registers")
        }
    }

    /// FC01 / FC02; one element per bit.
    public func readBits(discrete: Bool, address: Int, count: Int) throws -> [Bool] {
        let operation = discrete ? "read_input_bits" : "read_bits"
        let cAddress = try Self.cInt(address, "address", operation), cCount = try Self.cCount(count, operation)
        var bytes = [UInt8](repeating: 0, count: count)
        let received = bytes.withUnsafeMutableBufferPointer { buffer in
            discrete
                ? modbus_read_input_bits(context, cAddress, cCount, buffer.baseAddress)
                : modbus_read_bits(context, cAddress, cCount, buffer.baseAddress)
        }
        guard received == count else {
            throw received < 0 ? ModbusError.last(discrete ? "read_input_bits" : "read_bits")
                : ModbusError(operation: "read_bits", code: hp_modbus_embmdata(), message: "short response: \(received) of \(count) bits")
        }
        return bytes.map { $0 != 0 }
    }

    /// FC06 (one register) or FC16 (several).
    public func writeRegisters(address: Int, words: [UInt16], forceMultiple: Bool = false) throws {
        let cAddress = try Self.cInt(address, "address", "write_registers")
        if words.count == 1 && !forceMultiple {
            guard modbus_write_register(context, cAddress, words[0]) == 1 else { throw ModbusError.last("write_register") }
        } else {
            let cCount = try Self.cCount(words.count, "write_registers")
            let written = words.withUnsafeBufferPointer { modbus_write_registers(context, cAddress, cCount, $0.baseAddress) }
            guard written == words.count else { throw ModbusError.last("write_registers") }
        }
    }

    /// FC05.
    public func writeBit(address: Int, value: Bool) throws {
        guard modbus_write_bit(context, try Self.cInt(address, "address", "write_bit"), value ? 1 : 0) == 1 else { throw ModbusError.last("write_bit") }
    }

    /// libmodbus takes C `int`s: a value beyond them is an invalid request (EINVAL), never a trap.
    private static func cInt(_ value: Int, _ name: String, _ operation: String) throws -> Int32 {
        guard let converted = Int32(exactly: value) else {
            throw ModbusError(operation: operation, code: ModbusError.invalidRequestCode, message: "\(name) \(value) does not fit a C int")
        }
        return converted
    }

    /// A count also sizes a Swift buffer, which traps when negative.
    private static func cCount(_ count: Int, _ operation: String) throws -> Int32 {
        guard count >= 0 else {
            throw ModbusError(operation: operation, code: ModbusError.invalidRequestCode, message: "count \(count) is negative")
        }
        return try cInt(count, "count", operation)
    }
}
