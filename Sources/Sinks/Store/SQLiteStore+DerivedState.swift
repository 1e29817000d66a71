import HPCore
import SQLiteKit

/// The derived-metric state of each device (`derived_state`): saved through the inbox like every
/// write, read back at actor start after the queued saves are flushed.
extension SQLiteStore: DerivedStateStore {
    public func saveDerivedState(_ state: StoredDerivedState) {
        enqueue(.derivedState(state))
    }

    public func loadDerivedState(heatpumpID: String) async throws -> StoredDerivedState? {
        try await onStore { db in
            let rows = try db.query("SELECT config, state, saved_at FROM derived_state WHERE heatpump_id = ?1", [.text(heatpumpID)])
            guard let row = rows.first else { return nil }
            // A column of another type (a hand-edited row) reads as empty text: the caller's check refuses it.
            return StoredDerivedState(heatpumpID: heatpumpID, config: row[0].string ?? "", state: row[1].string ?? "", savedAt: row[2].double ?? 0)
        }
    }

    func writeDerivedState(_ state: StoredDerivedState, db: SQLiteDatabase) throws {
        try db.run("""
            INSERT INTO derived_state (heatpump_id, config, state, saved_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT(heatpump_id) DO UPDATE SET config = ?2, state = ?3, saved_at = ?4
            """, [.text(state.heatpumpID), .text(state.config), .text(state.state), .real(state.savedAt)])
    }
}
