/// Where device actors keep their derived-metric state across restarts (the SQLite store).
public protocol DerivedStateStore: Sendable {
    /// The last saved state of a device, after every save queued before the call; nil when none.
    func loadDerivedState(heatpumpID: String) async throws -> StoredDerivedState?
    /// Queues a save (replacing the device's previous one); never blocks the caller.
    func saveDerivedState(_ state: StoredDerivedState)
}
