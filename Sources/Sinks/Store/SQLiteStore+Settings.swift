import Foundation
import SQLiteKit

/// A live setting as stored: JSON text, read as it is (a hand-edited row is the caller's to judge).
public struct StoredSetting: Sendable, Hashable {
    public var key: String
    /// JSON of the value in force; nil when the column is not text.
    public var value: String?
    /// JSON of collector.yml's value when the setting was made; nil when the column is not text.
    public var fileValue: String?
    public var updatedAt: Double
    public var client: String

    public init(key: String, value: String?, fileValue: String?, updatedAt: Double, client: String) {
        self.key = key
        self.value = value
        self.fileValue = fileValue
        self.updatedAt = updatedAt
        self.client = client
    }
}

/// A row of `settings_audit`: who changed which setting from what to what (secrets redacted by the caller).
public struct SettingsAuditEntry: Sendable, Hashable {
    public var at: Double
    public var client: String
    public var key: String
    public var old: String
    public var new: String
    public var source: String

    public init(at: Double = Date().timeIntervalSince1970, client: String, key: String, old: String, new: String, source: String) {
        self.at = at
        self.client = client
        self.key = key
        self.old = old
        self.new = new
        self.source = source
    }
}

/// Live settings: durable before the call returns; a change and its audit rows are one transaction.
extension SQLiteStore {
    public func storedSettings() async throws -> [StoredSetting] {
        try await onStore { db in
            try db.query("SELECT key, value, file_value, updated_at, client FROM settings ORDER BY key").map {
                StoredSetting(key: $0[0].string ?? "", value: $0[1].string, fileValue: $0[2].string, updatedAt: $0[3].double ?? 0,
                              client: $0[4].string ?? "")
            }
        }
    }

    /// Writes `set` (insert or replace), deletes `removed` and appends `audit`, all or nothing.
    public func changeSettings(set: [StoredSetting], removed: [String], audit: [SettingsAuditEntry]) async throws {
        try await onStore { db in
            try db.transaction {
                for row in set {
                    try db.run("""
                        INSERT INTO settings (key, value, file_value, updated_at, client) VALUES (?1, ?2, ?3, ?4, ?5)
                        ON CONFLICT(key) DO UPDATE SET value = ?2, file_value = ?3, updated_at = ?4, client = ?5
                        """, [.text(row.key), SQLiteValue(row.value), SQLiteValue(row.fileValue), .real(row.updatedAt), .text(row.client)])
                }
                for key in removed { try db.run("DELETE FROM settings WHERE key = ?1", [.text(key)]) }
                for entry in audit {
                    try db.run("INSERT INTO settings_audit (at, client, key, old, new, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                               [.real(entry.at), .text(entry.client), .text(entry.key), .text(entry.old), .text(entry.new), .text(entry.source)])
                }
            }
        }
    }

    /// The settings audit, newest first.
    public func settingsAudit(limit: Int = 1000) async throws -> [SettingsAuditEntry] {
        try await onStore { db in
            try db.query("SELECT at, client, key, old, new, source FROM settings_audit ORDER BY id DESC LIMIT ?1", [.integer(Int64(limit))]).map {
                SettingsAuditEntry(at: $0[0].double ?? 0, client: $0[1].string ?? "", key: $0[2].string ?? "", old: $0[3].string ?? "",
                                   new: $0[4].string ?? "", source: $0[5].string ?? "")
            }
        }
    }
}
