/// Why an operator's read or write on a device failed. Codes are stable: clients and the HTTP API map them.
public struct DeviceOperationError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unknownRegister = "unknown_register"
        case rejected
        /// An EEPROM register's wear budget (interval or daily cap) is used up (HTTP 409).
        case eepromBudget = "eeprom_budget"
        case deviceError = "device_error"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
