import Foundation
import SQLiteKit

/// Durable, bounded FIFO of line-protocol batches waiting for InfluxDB, plus the dead-letter table.
///
/// Confined to the Influx sink's I/O strand. Crash-safe: every append/delete is its own SQLite
/// transaction in WAL mode; a batch is deleted only after InfluxDB accepted it.
final class InfluxSpool {
    struct Batch {
        var id: Int64
        var lines: String
        var points: Int
    }

    private let db: SQLiteDatabase
    private let maxBytes: Int64
    private(set) var batches = 0
    private(set) var points = 0
    private(set) var bytes: Int64 = 0
    private(set) var droppedPoints = 0

    init(path: String, maxBytes: Int64) throws {
        db = try SQLiteDatabase(path: path)
        self.maxBytes = maxBytes
        try db.migrate([
            """
            CREATE TABLE spool (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, points INTEGER NOT NULL, lines TEXT NOT NULL);
            CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, status INTEGER NOT NULL, message TEXT NOT NULL, lines TEXT NOT NULL);
            """,
        ])
        try refreshCounts()
    }

    private func refreshCounts() throws {
        let row = try db.query("SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(SUM(LENGTH(lines)), 0) FROM spool").first
        batches = Int(row?[0].int ?? 0)
        points = Int(row?[1].int ?? 0)
        bytes = row?[2].int ?? 0
    }

    var isEmpty: Bool { batches == 0 }

    /// Appends a batch; beyond the size bound the oldest batches are dropped (and counted).
    func append(_ lines: [String]) throws {
        guard !lines.isEmpty else { return }
        let text = lines.joined(separator: "\n")
        try db.run("INSERT INTO spool (created_at, points, lines) VALUES (?1, ?2, ?3)",
                   [.real(Date().timeIntervalSince1970), .integer(Int64(lines.count)), .text(text)])
        batches += 1
        points += lines.count
        bytes += Int64(text.utf8.count)
        while bytes > maxBytes, batches > 1, let oldest = try oldest() {
            try delete(oldest)
            droppedPoints += oldest.points
        }
    }

    func oldest() throws -> Batch? {
        guard let row = try db.query("SELECT id, lines, points FROM spool ORDER BY id LIMIT 1").first,
              let id = row[0].int, let lines = row[1].string else { return nil }
        return Batch(id: id, lines: lines, points: Int(row[2].int ?? 0))
    }

    func delete(_ batch: Batch) throws {
        try db.run("DELETE FROM spool WHERE id = ?1", [.integer(batch.id)])
        batches -= 1
        points -= batch.points
        bytes -= Int64(batch.lines.utf8.count)
    }

    func deadLetter(status: Int, message: String, lines: [String]) throws {
        try db.run("INSERT INTO dead_letters (at, status, message, lines) VALUES (?1, ?2, ?3, ?4)",
                   [.real(Date().timeIntervalSince1970), .integer(Int64(status)), .text(message), .text(lines.joined(separator: "\n"))])
    }

}
