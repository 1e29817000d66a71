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
        self.message = message ?? (code < 0 ? "error \(code)" : String(cString: modbus_strerror(code)))
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

    /// The device answered with a Modbus exception; the link itself is healthy.
    public var deviceAnswered: Bool { exceptionCode != nil }

    /// The errno-style code of Modbus exception `n` (libmodbus' convention, `MODBUS_ENOBASE + n`).
    public static func exceptionCode(_ n: Int) -> Int32 { hp_modbus_exception_errno(Int32(n)) }
    /// A response that breaks the protocol (libmodbus' EMBBADDATA): garbage, wrong length, wrong echo.
    public static var protocolViolationCode: Int32 { hp_modbus_embbaddata() }
    /// A response from another unit than the one asked (libmodbus' EMBBADSLAVE).
    public static var wrongUnitCode: Int32 { hp_modbus_embbadslave() }
    /// A request that can never be valid (address or count out of the protocol's range).
    public static var invalidRequestCode: Int32 { EINVAL }
    /// The host name could not be resolved.
    public static let dnsFailureCode: Int32 = -2

    /// The response broke the protocol (garbage, wrong unit, wrong length or echo).
    public var isProtocolViolation: Bool { code == Self.protocolViolationCode || code == Self.wrongUnitCode }
    public var isDNSFailure: Bool { code == Self.dnsFailureCode }

    /// What kind of failure this is, in words an operator can act on.
    public var cause: String {
        if let exception = exceptionCode { return "exception \(exception)" }
        if isTimeout { return "timeout" }
        if isProtocolViolation { return "protocol_error" }
        if isDNSFailure { return "dns_failure" }
        if code == ECONNREFUSED { return "connection_refused" }
        if isConnectionLost { return "connection_lost" }
        return "error"
    }

    /// The connection is broken and must be re-established.
    public var isConnectionLost: Bool {
        [ECONNREFUSED, ECONNRESET, EPIPE, EBADF, ENOTCONN, EHOSTUNREACH, ENETUNREACH, ECONNABORTED, EIO].contains(code)
    }

    public var description: String { "\(operation): \(message) (errno \(code))" }
}
