/// One value in a simulated device's tables.
struct SimPoint {
    var name: String
    var table: SimTable
    var address: Int
    var type: SimValueType
    var order: SimOrder = .ABCD
    /// raw = physical / scale (integers rounded).
    var scale: Double = 1
    var dynamics: SimDynamics
    /// Exact raw value for integer points that must not pass through Double (uint64/int64 matrix).
    var exact: SimScalar?
    /// An input point the device also takes FC06/FC16 writes for, at the same address (IDM's quirk:
    /// read with FC04, write with FC16; the written value then reads back via FC04).
    var writableViaHolding = false
    /// The raw value the device serves while the sensor or function is absent ("not available").
    var absent: SimScalar?
    /// Registers a `.string` point spans; its text is `exact.text`.
    var length = 0

    /// Registers the point occupies.
    var span: Int { type == .string ? length : type.words }

    func raw(_ physical: Double) -> SimScalar {
        if let exact { return exact }
        let scaled = physical / scale
        switch type {
        case .float16, .float32, .float64: return .real(scaled)
        case .uint64: return .uint(UInt64(max(0, scaled.rounded())))
        default: return .int(Int64(scaled.rounded()))
        }
    }
}
