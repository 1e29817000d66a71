/// The Modbus table a register lives in; decides the read function code.
public enum RegisterType: String, Sendable, Hashable, CaseIterable {
    case coil
    case discrete
    case holding
    case input

    public init?(configName: String) {
        switch configName.lowercased() {
        case "coil", "coils": self = .coil
        case "discrete", "discrete_input", "discrete_inputs": self = .discrete
        case "holding", "holding_register", "holding_registers": self = .holding
        case "input", "input_register", "input_registers": self = .input
        default: return nil
        }
    }

    /// Modbus read function code (1, 2, 3, 4).
    public var readFunctionCode: UInt8 {
        switch self {
        case .coil: 1
        case .discrete: 2
        case .holding: 3
        case .input: 4
        }
    }

    public var isBitTable: Bool { self == .coil || self == .discrete }
}
