import Foundation
import SQLiteKit

/// Safe-control state: durable before the call returns (written at once, not batched), so a
/// restart right after a write neither forgets the EEPROM budget nor a wanted value.
extension SQLiteStore {
    public func recordEEPROMWrite(heatpumpID: String, register: String, at: Double) async throws {
        try await onStore { db in
            try db.run("INSERT INTO eeprom_writes (heatpump_id, register, at) VALUES (?1, ?2, ?3)", [.text(heatpumpID), .text(register), .real(at)])
            // Only the last 24 hours decide anything.
            try db.run("DELETE FROM eeprom_writes WHERE at < ?1", [.real(at - 86400)])
        }
    }

    /// EEPROM writes since `since` (the daemon loads the last 24 hours at start).
    public func eepromWrites(since: Double) async throws -> [StoredEEPROMWrite] {
        try await onStore { db in
            try db.query("SELECT heatpump_id, register, at FROM eeprom_writes WHERE at >= ?1 ORDER BY at", [.real(since)]).compactMap { row in
                guard let id = row[0].string, let register = row[1].string, let at = row[2].double else { return nil }
                return StoredEEPROMWrite(heatpumpID: id, register: register, at: at)
            }
        }
    }

    public func saveCyclicWrite(_ w: StoredCyclicWrite) async throws {
        try await onStore { db in
            try db.run("""
                INSERT INTO cyclic_writes (heatpump_id, register, value, set_at, client) VALUES (?1, ?2, ?3, ?4, ?5)
                ON CONFLICT(heatpump_id, register) DO UPDATE SET value = ?3, set_at = ?4, client = ?5
                """, [.text(w.heatpumpID), .text(w.register), .text(w.value), .real(w.setAt), .text(w.client)])
        }
    }

    /// Removes a wanted value; false when none was set.
    public func deleteCyclicWrite(heatpumpID: String, register: String) async throws -> Bool {
        try await onStore { db in
            try db.run("DELETE FROM cyclic_writes WHERE heatpump_id = ?1 AND register = ?2", [.text(heatpumpID), .text(register)])
            return db.changes > 0
        }
    }

    public func cyclicWrites() async throws -> [StoredCyclicWrite] {
        try await onStore { db in
            try db.query("SELECT heatpump_id, register, value, set_at, client FROM cyclic_writes ORDER BY heatpump_id, register").compactMap { row in
                guard let id = row[0].string, let register = row[1].string, let value = row[2].string else { return nil }
                return StoredCyclicWrite(heatpumpID: id, register: register, value: value, setAt: row[3].double ?? 0, client: row[4].string ?? "")
            }
        }
    }

    /// Stores a new job; returns its id.
    public func addWriteJob(heatpumpID: String, register: String, value: String, days: String, time: String, client: String) async throws -> Int64 {
        try await onStore { db in
            try db.run("""
                INSERT INTO write_jobs (heatpump_id, register, value, days, time, created_at, client) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                """, [.text(heatpumpID), .text(register), .text(value), .text(days), .text(time), .real(Date().timeIntervalSince1970), .text(client)])
            return db.lastInsertRowID
        }
    }

    public func deleteWriteJob(id: Int64) async throws -> Bool {
        try await onStore { db in
            try db.run("DELETE FROM write_jobs WHERE id = ?1", [.integer(id)])
            return db.changes > 0
        }
    }

    public func setWriteJobLastRun(id: Int64, at: Double) async throws {
        try await onStore { db in try db.run("UPDATE write_jobs SET last_run = ?2 WHERE id = ?1", [.integer(id), .real(at)]) }
    }

    public func writeJobs() async throws -> [StoredWriteJob] {
        try await onStore { db in
            try db.query("SELECT id, heatpump_id, register, value, days, time, created_at, client, last_run FROM write_jobs ORDER BY id").compactMap { row in
                guard case .integer(let id) = row[0], let heatpumpID = row[1].string, let register = row[2].string, let value = row[3].string,
                      let days = row[4].string, let time = row[5].string else { return nil }
                return StoredWriteJob(id: id, heatpumpID: heatpumpID, register: register, value: value, days: days, time: time,
                                      createdAt: row[6].double ?? 0, client: row[7].string ?? "", lastRun: row[8].double)
            }
        }
    }
}
