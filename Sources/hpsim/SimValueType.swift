/// Types the simulator can place in its tables. Independent of the poller's `DataType` on purpose.
enum SimValueType: String, CaseIterable, Codable {
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64, float16, float32, float64, bool
    /// Text in `SimPoint.length` registers.
    case string

    /// Registers a value of this type spans (per register for strings: see `SimPoint.span`).
    var words: Int {
        switch self {
        case .int8, .uint8, .int16, .uint16, .float16, .bool, .string: 1
        case .int32, .uint32, .float32: 2
        case .int64, .uint64, .float64: 4
        }
    }
}

/// Where a point lives.
enum SimTable: String, Codable {
    case coil, discrete, holding, input
}

/// Byte order names, as in the poller's configuration (ABCD, CDAB, BADC, DCBA).
enum SimOrder: String, CaseIterable, Codable {
    case ABCD, CDAB, BADC, DCBA
}
