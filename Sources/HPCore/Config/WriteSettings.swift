/// `writes:` — limits that protect the controllers' flash from wear.
public struct WriteSettings: Sendable, Hashable {
    /// Least time between two writes of one EEPROM register, seconds.
    public var eepromMinInterval: Double = 600
    /// Most writes of one EEPROM register within any 24 hours.
    public var eepromDailyCap: Int = 24

    public init() {}
}
