/// A decoded register value, typed so sinks can keep integers integral (Influx `i` fields).
public enum SampleValue: Sendable, Hashable {
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    /// Text from a `string` register (NULs and trailing spaces trimmed).
    case string(String)

    public var isText: Bool { if case .string = self { true } else { false } }

    /// The value as a number (NaN for text).
    public var doubleValue: Double {
        switch self {
        case .int(let v): Double(v)
        case .uint(let v): Double(v)
        case .double(let v): v
        case .bool(let v): v ? 1 : 0
        case .string: .nan  // text has no number; alerts and write read-backs never match it
        }
    }
}
