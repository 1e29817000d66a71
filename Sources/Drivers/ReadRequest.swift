import HPCore

/// One Modbus read covering several registers of the same table.
public struct ReadRequest: Sendable, Hashable {
    public var registerType: RegisterType
    public var address: Int
    /// Registers (or bits for coil/discrete) to read.
    public var count: Int
    /// Indices into the device's register list, in address order.
    public var members: [Int]

    public init(registerType: RegisterType, address: Int, count: Int, members: [Int]) {
        self.registerType = registerType
        self.address = address
        self.count = count
        self.members = members
    }

    public var functionCode: UInt8 { registerType.readFunctionCode }
}
