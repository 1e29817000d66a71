/// A device's derived-metric state as persisted: opaque JSON (`DerivedState` of the Insight module)
/// with the derived configuration it belongs to.
public struct StoredDerivedState: Sendable, Hashable {
    public var heatpumpID: String
    /// `DerivedInputs.fingerprint` when saved: a different one means the state does not apply.
    public var config: String
    /// JSON of the state.
    public var state: String
    /// Wall-clock seconds of the save.
    public var savedAt: Double

    public init(heatpumpID: String, config: String, state: String, savedAt: Double) {
        self.heatpumpID = heatpumpID
        self.config = config
        self.state = state
        self.savedAt = savedAt
    }
}
