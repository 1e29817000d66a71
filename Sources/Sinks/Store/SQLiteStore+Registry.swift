import Foundation
import SQLiteKit

/// A heat pump added at runtime, as stored. Rows are read as they are: a hand-edited or damaged
/// row must not stop the daemon, so unreadable values stay `nil` and the caller decides.
public struct RuntimeDevice: Sendable, Hashable {
    public var id: String
    /// The device specification (heatpumps.yml keys) as JSON; nil when the column is not text.
    public var spec: String?
    /// nil when the column holds anything but 0 or 1.
    public var enabled: Bool?
    public var name: String
    public var location: String
    public var manufacturer: String
    public var model: String
    public var createdAt: Double
    public var updatedAt: Double
}

/// A runtime enable/disable of a heatpumps.yml device, as stored; `enabled` is nil when unreadable.
public struct StoredOverride: Sendable, Hashable {
    public var heatpumpID: String
    public var enabled: Bool?
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
            try db.query("SELECT id, config, enabled, name, location, manufacturer, model, created_at, updated_at FROM heatpumps ORDER BY id").map {
                RuntimeDevice(id: $0[0].string ?? "", spec: $0[1].string, enabled: Self.flag($0[2]),
                              name: $0[3].string ?? "", location: $0[4].string ?? "", manufacturer: $0[5].string ?? "",
                              model: $0[6].string ?? "", createdAt: $0[7].double ?? 0, updatedAt: $0[8].double ?? 0)
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

    /// Runtime enable/disable of heatpumps.yml devices, oldest first (so a later row wins if a
    /// damaged table holds one id twice).
    public func overrides() async throws -> [StoredOverride] {
        try await onStore { db in
            try db.query("SELECT heatpump_id, enabled FROM overrides ORDER BY updated_at, rowid").map {
                StoredOverride(heatpumpID: $0[0].string ?? "", enabled: Self.flag($0[1]))
            }
        }
    }

    /// 0 or 1; anything else (text, NULL, 2, 0.5) is unreadable.
    static func flag(_ value: SQLiteValue) -> Bool? {
        switch value {
        case .integer(0): false
        case .integer(1): true
        default: nil
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
