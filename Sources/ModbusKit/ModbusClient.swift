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
            let parityByte = CChar(parity.asciiValue ?? UInt8(ascii: "N"))
            created = modbus_new_rtu(device, Int32(baudrate), parityByte, Int32(dataBits), Int32(stopBits))
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
        guard modbus_set_slave(context, Int32(unit)) == 0 else { throw ModbusError.last("modbus_set_slave") }
    }

    public func connect() throws {
        if isConnected { return }
        guard modbus_connect(context) == 0 else { throw ModbusError.last("modbus_connect") }
        isConnected = true
    }

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
        if words.count != count { words = Array(repeating: 0, count: count) }
        let received = words.withUnsafeMutableBufferPointer { buffer in
            input
                ? modbus_read_input_registers(context, Int32(address), Int32(count), buffer.baseAddress)
                : modbus_read_registers(context, Int32(address), Int32(count), buffer.baseAddress)
        }
        guard received == count else {
            throw received < 0 ? ModbusError.last(input ? "read_input_registers" : "read_registers")
                : ModbusError(operation: "read_registers", code: hp_modbus_embmdata(), message: "short response: \(received) of \(count) registers")
        }
    }

    /// FC01 / FC02; one element per bit.
    public func readBits(discrete: Bool, address: Int, count: Int) throws -> [Bool] {
        var bytes = [UInt8](repeating: 0, count: count)
        let received = bytes.withUnsafeMutableBufferPointer { buffer in
            discrete
                ? modbus_read_input_bits(context, Int32(address), Int32(count), buffer.baseAddress)
                : modbus_read_bits(context, Int32(address), Int32(count), buffer.baseAddress)
        }
        guard received == count else {
            throw received < 0 ? ModbusError.last(discrete ? "read_input_bits" : "read_bits")
                : ModbusError(operation: "read_bits", code: hp_modbus_embmdata(), message: "short response: \(received) of \(count) bits")
        }
        return bytes.map { $0 != 0 }
    }

    /// FC06 (one register) or FC16 (several).
    public func writeRegisters(address: Int, words: [UInt16], forceMultiple: Bool = false) throws {
        if words.count == 1 && !forceMultiple {
            guard modbus_write_register(context, Int32(address), words[0]) == 1 else { throw ModbusError.last("write_register") }
        } else {
            let written = words.withUnsafeBufferPointer { modbus_write_registers(context, Int32(address), Int32(words.count), $0.baseAddress) }
            guard written == words.count else { throw ModbusError.last("write_registers") }
        }
    }

    /// FC05.
    public func writeBit(address: Int, value: Bool) throws {
        guard modbus_write_bit(context, Int32(address), value ? 1 : 0) == 1 else { throw ModbusError.last("write_bit") }
    }
}
