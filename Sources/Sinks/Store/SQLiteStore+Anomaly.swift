import Foundation
import HPCore
import SQLiteKit

/// Anomaly detectors' learnt state (`anomaly_models`): one row per device, replaced on each save.
extension SQLiteStore: AnomalyModelStore {
    /// Rows of devices that saved nothing for this long are deleted when the store opens.
    static let anomalyModelRetention = 30 * 86_400.0

    public func loadAnomalyModel(heatpumpID: String) async -> [UInt8]? {
        do {
            return try await onStore { db in
                try db.query("SELECT state FROM anomaly_models WHERE heatpump_id = ?1", [.text(heatpumpID)]).first?.first?.bytes
            }
        } catch {
            logger.warning("cannot read the stored anomaly model; learning afresh", metadata: ["heatpump_id": "\(heatpumpID)", "error": "\(error)"])
            return nil
        }
    }

    public func saveAnomalyModel(heatpumpID: String, state: [UInt8], at time: Double) {
        enqueueAnomalyModel(heatpumpID, at: time, state: state)
    }

    /// Drops models nobody saved for `anomalyModelRetention` (devices long gone), so the table stays bounded.
    static func pruneAnomalyModels(_ db: SQLiteDatabase, now: Double) throws {
        try db.run("DELETE FROM anomaly_models WHERE saved_at < ?1", [.real(now - anomalyModelRetention)])
    }
}
