import Foundation
import SQLiteKit

/// A heat pump added at runtime, as stored.
public struct RuntimeDevice: Sendable, Hashable {
    public var id: String
    /// The device specification (heatpumps.yml keys) as JSON.
    public var spec: String
    public var enabled: Bool
    public var createdAt: Double
    public var updatedAt: Double
}

/// A row of `write_audit`.
public struct WriteAuditEntry: Sendable, Hashable {
    public var heatpumpID: String
    public var register: String
    public var requested: String
    public var previous: String?
    public var readBack: String?
    public var result: String
    public var message: String
    public var client: String

    public init(heatpumpID: String, register: String, requested: String, previous: String?, readBack: String?,
                result: String, message: String, client: String) {
        self.heatpumpID = heatpumpID
        self.register = register
        self.requested = requested
        self.previous = previous
        self.readBack = readBack
        self.result = result
        self.message = message
        self.client = client
    }
}

/// The runtime device registry: durable before the call returns (written at once, not batched).
extension SQLiteStore {
    public func runtimeDevices() async throws -> [RuntimeDevice] {
        try await onStore { db in
            try db.query("SELECT id, config, enabled, created_at, updated_at FROM heatpumps ORDER BY id").map {
                RuntimeDevice(id: $0[0].string ?? "", spec: $0[1].string ?? "{}", enabled: ($0[2].int ?? 1) != 0,
                              createdAt: $0[3].double ?? 0, updatedAt: $0[4].double ?? 0)
            }
        }
    }

    /// Inserts or replaces a runtime device.
    public func saveRuntimeDevice(id: String, name: String, location: String, manufacturer: String, model: String,
                                  connection: String, spec: String, enabled: Bool) async throws {
        let now = Date().timeIntervalSince1970
        try await onStore { db in
            try db.run("""
                INSERT INTO heatpumps (id, name, location, manufacturer, model, connection, config, enabled, created_at, updated_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                ON CONFLICT(id) DO UPDATE SET name = ?2, location = ?3, manufacturer = ?4, model = ?5, connection = ?6,
                    config = ?7, enabled = ?8, updated_at = ?9
                """, [.text(id), .text(name), .text(location), .text(manufacturer), .text(model), .text(connection), .text(spec),
                      .integer(enabled ? 1 : 0), .real(now)])
        }
    }

    public func setRuntimeDeviceEnabled(_ id: String, _ enabled: Bool) async throws {
        try await onStore { db in
            try db.run("UPDATE heatpumps SET enabled = ?2, updated_at = ?3 WHERE id = ?1", [.text(id), .integer(enabled ? 1 : 0), .real(Date().timeIntervalSince1970)])
        }
    }

    public func deleteRuntimeDevice(_ id: String) async throws {
        try await onStore { db in try db.run("DELETE FROM heatpumps WHERE id = ?1", [.text(id)]) }
    }

    /// Runtime enable/disable of heatpumps.yml devices.
    public func overrides() async throws -> [String: Bool] {
        try await onStore { db in
            Dictionary(uniqueKeysWithValues: try db.query("SELECT heatpump_id, enabled FROM overrides").map { ($0[0].string ?? "", ($0[1].int ?? 1) != 0) })
        }
    }

    public func setOverride(_ id: String, enabled: Bool?) async throws {
        try await onStore { db in
            if let enabled {
                try db.run("INSERT INTO overrides (heatpump_id, enabled, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT(heatpump_id) DO UPDATE SET enabled = ?2, updated_at = ?3",
                           [.text(id), .integer(enabled ? 1 : 0), .real(Date().timeIntervalSince1970)])
            } else {
                try db.run("DELETE FROM overrides WHERE heatpump_id = ?1", [.text(id)])
            }
        }
    }

    public func audit(_ entry: WriteAuditEntry) async throws {
        try await onStore { db in
            try db.run("""
                INSERT INTO write_audit (at, heatpump_id, register, requested, previous, read_back, result, message, client)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                """, [.real(Date().timeIntervalSince1970), .text(entry.heatpumpID), .text(entry.register), .text(entry.requested),
                      SQLiteValue(entry.previous), SQLiteValue(entry.readBack), .text(entry.result), .text(entry.message), .text(entry.client)])
        }
    }
}
