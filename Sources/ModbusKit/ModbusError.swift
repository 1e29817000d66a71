import CModbus
#if canImport(Glibc)
import Glibc
#endif

/// A failed libmodbus call: the operation, `errno` captured right after it, and libmodbus' text.
public struct ModbusError: Error, Sendable, Hashable, CustomStringConvertible {
    public var operation: String
    public var code: Int32
    public var message: String

    public init(operation: String, code: Int32, message: String? = nil) {
        self.operation = operation
        self.code = code
        self.message = message ?? String(cString: modbus_strerror(code))
    }

    /// Captures `errno` now; call immediately after the failing libmodbus function.
    static func last(_ operation: String) -> ModbusError {
        ModbusError(operation: operation, code: errno)
    }

    /// The Modbus exception code (1 = illegal function, 2 = illegal data address, …), if the device answered one.
    public var exceptionCode: Int? {
        let base = Int(hp_modbus_enobase())
        let value = Int(code) - base
        return (1...11).contains(value) ? value : nil
    }

    public var isIllegalDataAddress: Bool { exceptionCode == 2 }
    public var isTimeout: Bool { code == ETIMEDOUT }

    /// The device answered (exception or malformed frame); the link itself is healthy.
    public var deviceAnswered: Bool { exceptionCode != nil }

    /// The connection is broken and must be re-established.
    public var isConnectionLost: Bool {
        [ECONNREFUSED, ECONNRESET, EPIPE, EBADF, ENOTCONN, EHOSTUNREACH, ENETUNREACH, ECONNABORTED, EIO].contains(code)
    }

    public var description: String { "\(operation): \(message) (errno \(code))" }
}
