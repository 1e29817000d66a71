/// Why an operator's read or write on a device failed.
public struct DeviceOperationError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unknownRegister = "unknown_register"
        case rejected
        case deviceError = "device_error"
    }

    public var code: Code
    public var message: String
    /// A `rejected` write refused because the register's EEPROM write budget is spent (the value itself was fine).
    public var eepromBudget = false

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// The outcome of a verified write.
public struct WriteResult: Sendable {
    public var register: String
    public var requested: Double
    public var previous: Double?
    public var readBack: Double?
    public var verified: Bool
}
