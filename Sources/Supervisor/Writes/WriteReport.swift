import DeviceActor

/// A write as the command layer reports it.
public struct WriteReport: Sendable {
    public var heatpumpID: String
    public var result: WriteResult
    public var audited: Bool
    /// Seconds between re-sends when the register is cyclic (the value is now wanted until cleared).
    public var refreshInterval: Double?
}
