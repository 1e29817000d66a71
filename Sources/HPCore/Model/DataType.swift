/// How the raw words or bits of a register are interpreted.
public enum DataType: String, Sendable, Hashable, CaseIterable {
    case int8, uint8
    case int16, uint16
    case int32, uint32
    case int64, uint64
    case float16, float32, float64
    case bool
    /// Text in `length` registers, two bytes per register (see `RegisterDefinition.length`).
    case string

    /// Accepts our names plus common aliases seen in vendor and peer configs.
    public init?(configName: String) {
        switch configName.lowercased() {
        case "int8", "s8", "sint8": self = .int8
        case "uint8", "u8", "uchar": self = .uint8
        case "int16", "s16", "sint16", "short": self = .int16
        case "uint16", "u16", "word": self = .uint16
        case "int32", "s32", "sint32": self = .int32
        case "uint32", "u32", "dword": self = .uint32
        case "int64", "s64", "sint64": self = .int64
        case "uint64", "u64": self = .uint64
        case "float16", "f16", "half": self = .float16
        case "float32", "float", "f32", "real": self = .float32
        case "float64", "double", "f64": self = .float64
        case "bool", "boolean", "bit": self = .bool
        case "string", "str", "text", "ascii": self = .string
        default: return nil
        }
    }

    /// Number of 16-bit registers the value occupies (bits count as 1; a string's per register:
    /// its span is `RegisterDefinition.length`).
    public var registerCount: Int {
        switch self {
        case .int8, .uint8, .int16, .uint16, .float16, .bool, .string: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        }
    }

    public var isInteger: Bool {
        switch self {
        case .float16, .float32, .float64, .string: false
        default: true
        }
    }

    public var isFloat: Bool { self == .float16 || self == .float32 || self == .float64 }
}
