/// The outcome of a write.
public struct WriteResult: Sendable {
    public enum Outcome: String, Sendable {
        /// Written and the read-back matches.
        case verified
        /// Written, but the read-back differs (the device may clamp or refuse silently).
        case unverified
        /// Written to a register that cannot be read back (pulse, write-only).
        case sent
        /// The device already held the value: nothing was written (EEPROM wear saved).
        case unchanged
    }

    public var register: String
    public var requested: Double
    public var previous: Double?
    public var readBack: Double?
    public var outcome: Outcome

    public var verified: Bool { outcome == .verified }

    public init(register: String, requested: Double, previous: Double?, readBack: Double?, outcome: Outcome) {
        self.register = register
        self.requested = requested
        self.previous = previous
        self.readBack = readBack
        self.outcome = outcome
    }
}
