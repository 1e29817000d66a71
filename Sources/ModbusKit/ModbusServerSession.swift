import CModbus
#if canImport(Glibc)
import Glibc
#endif

/// The server side of one accepted TCP connection or one serial line, answering from a `ModbusMapping`.
///
/// Owned by one thread. TCP requests are received with libmodbus; RTU frames are received by the
/// caller (libmodbus' RTU receive drops frames for other unit ids) and handed to `reply`.
public final class ModbusServerSession {
    private let context: OpaquePointer
    public let isRTU: Bool
    private var buffer: [UInt8]

    /// Wraps an accepted TCP socket.
    public init(tcpSocket: Int32) throws {
        guard let created = modbus_new_tcp("127.0.0.1", 502) else { throw ModbusError.last("modbus_new_tcp") }
        context = created
        isRTU = false
        buffer = [UInt8](repeating: 0, count: Int(hp_modbus_tcp_max_adu()))
        modbus_set_socket(context, tcpSocket)
    }

    /// Opens a serial device (or pty) as an RTU server line.
    public init(serialDevice: String, baudrate: Int, parity: Character, dataBits: Int, stopBits: Int) throws {
        let parityByte = CChar(parity.asciiValue ?? UInt8(ascii: "N"))
        guard let created = modbus_new_rtu(serialDevice, Int32(baudrate), parityByte, Int32(dataBits), Int32(stopBits)) else {
            throw ModbusError.last("modbus_new_rtu")
        }
        // Connected before `self` is complete: a class initializer that throws after every stored
        // property is set runs `deinit`, which would free the context a second time.
        guard modbus_connect(created) == 0 else {
            let error = ModbusError.last("modbus_connect(\(serialDevice))")
            modbus_free(created)
            throw error
        }
        context = created
        isRTU = true
        buffer = []
    }

    deinit {
        modbus_close(context)
        modbus_free(context)
    }

    /// The file descriptor (socket or serial line).
    public var fileDescriptor: Int32 { modbus_get_socket(context) }

    /// Receives one TCP request (MBAP header + PDU). Blocks until one arrives or the peer closes.
    public func receiveTCP() throws -> ArraySlice<UInt8> {
        let length = buffer.withUnsafeMutableBufferPointer { modbus_receive(context, $0.baseAddress) }
        guard length > 0 else {
            if length == 0 { return [] }
            throw ModbusError.last("modbus_receive")
        }
        return buffer[0..<Int(length)]
    }

    /// Answers `request` (a complete ADU as received) from `mapping`.
    public func reply(_ request: ArraySlice<UInt8>, mapping: ModbusMapping) throws {
        let result = Array(request).withUnsafeBufferPointer {
            modbus_reply(context, $0.baseAddress, Int32(request.count), mapping.pointer)
        }
        guard result >= 0 else { throw ModbusError.last("modbus_reply") }
    }

    /// Answers `request` with a Modbus exception (e.g. 2 = Illegal Data Address, 11 = gateway target failed).
    public func replyException(_ request: ArraySlice<UInt8>, code: Int) throws {
        let result = Array(request).withUnsafeBufferPointer {
            modbus_reply_exception(context, $0.baseAddress, UInt32(code))
        }
        guard result >= 0 else { throw ModbusError.last("modbus_reply_exception") }
    }
}
