/// Where a device's anomaly detector keeps its learnt state across restarts (the SQLite store).
public protocol AnomalyModelStore: Sendable {
    /// The state last saved for the device, or nil (none, or the store cannot read it: logged there).
    func loadAnomalyModel(heatpumpID: String) async -> [UInt8]?
    /// Queues the state for writing; never blocks the caller.
    func saveAnomalyModel(heatpumpID: String, state: [UInt8], at time: Double)
}
