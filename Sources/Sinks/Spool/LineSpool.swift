import Foundation
import SQLiteKit

/// Durable, bounded FIFO of text batches (one record per line) waiting for a central engine, plus
/// the dead-letter table. The Influx sink spools line protocol, the remote-write sink sample lines.
///
/// Confined to its sink's I/O strand. Crash-safe (kill -9 at any instant): every change is
/// one SQLite transaction in WAL mode, and a batch leaves the spool only after the server accepted it,
/// in the same transaction that stores the lines it refused. A crash between the server's answer and
/// that commit re-sends the same bytes, which InfluxDB and Prometheus-style receivers store once (same
/// series, timestamp and value), so replay is idempotent and never leaves a duplicate dead letter.
///
/// Dead letters count against the same size bound as the batches and go first when it is exceeded;
/// they are also pruned by age and count.
final class LineSpool {
    struct Batch {
        var id: Int64
        var lines: String
        var points: Int
    }

    /// A line the server refused, with its answer.
    struct DeadLetter: Equatable {
        var status: Int
        var message: String
        var line: String

        var bytes: Int64 { Int64(message.utf8.count + line.utf8.count) }
    }

    struct Limits {
        var maxBytes: Int64
        var deadLetterRetention: Double = 7 * 86400
        var deadLetterMax: Int = 10_000
    }

    private let db: SQLiteDatabase
    let limits: Limits
    private(set) var batches = 0
    private(set) var points = 0
    /// Line bytes of the waiting batches.
    private(set) var bytes: Int64 = 0
    private(set) var deadLetters = 0
    private(set) var deadLetterBytes: Int64 = 0
    /// Points dropped because the spool was over its bound (since this process opened it).
    private(set) var droppedPoints = 0
    /// Dead letters pruned by age, count or the size bound (since this process opened it).
    private(set) var prunedDeadLetters = 0

    convenience init(path: String, maxBytes: Int64) throws {
        try self.init(path: path, limits: Limits(maxBytes: maxBytes))
    }

    init(path: String, limits: Limits) throws {
        db = try SQLiteDatabase(path: path)
        self.limits = limits
        try db.migrate([
            """
            CREATE TABLE spool (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at REAL NOT NULL, points INTEGER NOT NULL, lines TEXT NOT NULL);
            CREATE TABLE dead_letters (id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, status INTEGER NOT NULL, message TEXT NOT NULL, lines TEXT NOT NULL);
            """,
            "CREATE INDEX dead_letters_at ON dead_letters (at);",
        ])
        try refreshCounts()
        try enforceBounds(now: Date())
    }

    private func refreshCounts() throws {
        let row = try db.query("SELECT COUNT(*), COALESCE(SUM(points), 0), COALESCE(SUM(LENGTH(CAST(lines AS BLOB))), 0) FROM spool").first
        batches = Int(row?[0].int ?? 0)
        points = Int(row?[1].int ?? 0)
        bytes = row?[2].int ?? 0
        let letters = try db.query("SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(lines AS BLOB)) + LENGTH(CAST(message AS BLOB))), 0) FROM dead_letters").first
        deadLetters = Int(letters?[0].int ?? 0)
        deadLetterBytes = letters?[1].int ?? 0
    }

    var isEmpty: Bool { batches == 0 }

    /// Appends a batch (and the dead letters of its earlier lines) in one transaction; beyond the
    /// size bound dead letters, then the oldest batches, are dropped (and counted).
    func append(_ lines: [String], deadLetters letters: [DeadLetter] = []) throws {
        try append(batches: [lines], deadLetters: letters)
    }

    /// Appends several batches, in order, and dead letters in one transaction (one commit for a
    /// whole spilled inbox); then applies the size bound once.
    func append(batches: [[String]], deadLetters letters: [DeadLetter] = []) throws {
        let texts = batches.filter { !$0.isEmpty }.map { (points: $0.count, text: $0.joined(separator: "\n")) }
        guard !texts.isEmpty || !letters.isEmpty else { return }
        try transaction {
            try insert(letters)
            let now = Date().timeIntervalSince1970
            for batch in texts {
                try db.run("INSERT INTO spool (created_at, points, lines) VALUES (?1, ?2, ?3)",
                           [.real(now), .integer(Int64(batch.points)), .text(batch.text)])
            }
        }
        for batch in texts {
            self.batches += 1
            points += batch.points
            bytes += Int64(batch.text.utf8.count)
        }
        try enforceBounds(now: Date())
    }

    /// The oldest batch alone.
    func oldest() throws -> Batch? {
        try oldest(points: 0, limit: 1).first
    }

    /// The oldest batches, in order, as many as fit in `maxPoints` points (always the oldest one,
    /// at most `limit`): what one replay step sends.
    func oldest(points maxPoints: Int, limit: Int) throws -> [Batch] {
        let sizes = try db.query("SELECT id, points FROM spool ORDER BY id LIMIT ?1", [.integer(Int64(max(1, limit)))])
        var last: Int64?
        var total = 0
        for row in sizes {
            guard let id = row[0].int else { break }
            let n = Int(row[1].int ?? 0)
            if last != nil, total + n > maxPoints { break }
            total += n
            last = id
        }
        guard let last else { return [] }
        return try db.query("SELECT id, lines, points FROM spool WHERE id <= ?1 ORDER BY id", [.integer(last)]).compactMap { row in
            guard let id = row[0].int, let lines = row[1].string else { return nil }
            return Batch(id: id, lines: lines, points: Int(row[2].int ?? 0))
        }
    }

    /// The outcome of one replay step over `taken` (the oldest batches, in order), in one
    /// transaction: the receiver's refusals become dead letters, and what it has not taken yet
    /// (`remaining`) keeps the oldest batch's place in line as one batch; the other batches leave.
    func settle(_ taken: [Batch], remaining: [String], deadLetters letters: [DeadLetter]) throws {
        guard let first = taken.first else { return try deadLetter(letters) }
        let text = remaining.joined(separator: "\n")
        try transaction {
            try insert(letters)
            if remaining.isEmpty {
                try db.run("DELETE FROM spool WHERE id = ?1", [.integer(first.id)])
            } else {
                try db.run("UPDATE spool SET lines = ?2, points = ?3 WHERE id = ?1",
                           [.integer(first.id), .text(text), .integer(Int64(remaining.count))])
            }
            for batch in taken.dropFirst() { try db.run("DELETE FROM spool WHERE id = ?1", [.integer(batch.id)]) }
        }
        for batch in taken { removedBatch(batch) }
        if !remaining.isEmpty {
            batches += 1
            points += remaining.count
            bytes += Int64(text.utf8.count)
        }
        try enforceBounds(now: Date())
    }

    /// Drops a batch without delivering it (size bound).
    func delete(_ batch: Batch) throws {
        try db.run("DELETE FROM spool WHERE id = ?1", [.integer(batch.id)])
        removedBatch(batch)
    }

    func deadLetter(_ letters: [DeadLetter]) throws {
        guard !letters.isEmpty else { return }
        try transaction { try insert(letters) }
        try enforceBounds(now: Date())
    }

    func deadLetter(status: Int, message: String, lines: [String]) throws {
        try deadLetter([DeadLetter(status: status, message: message, line: lines.joined(separator: "\n"))])
    }

    /// Applies the dead-letter retention and count, then the size bound over batches and dead letters.
    func enforceBounds(now: Date) throws {
        if deadLetters > 0 {
            try pruneDeadLetters("DELETE FROM dead_letters WHERE at < ?1", [.real(now.timeIntervalSince1970 - limits.deadLetterRetention)])
        }
        if deadLetters > limits.deadLetterMax {
            try pruneDeadLetters("DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters ORDER BY id LIMIT ?1)",
                                 [.integer(Int64(deadLetters - limits.deadLetterMax))])
        }
        while bytes + deadLetterBytes > limits.maxBytes, deadLetters > 0 {
            // Nothing deleted means the counts were wrong; they are re-read, and the loop must not spin on them.
            guard try pruneDeadLetters("DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters ORDER BY id LIMIT ?1)",
                                       [.integer(Int64(max(1, deadLetters / 10)))]) else { break }
        }
        while bytes > limits.maxBytes, batches > 1, let oldest = try oldest() {
            try delete(oldest)
            droppedPoints += oldest.points
        }
    }

    /// Runs one prune and re-reads the counts (also when nothing matched: then they had drifted from
    /// the file). Returns whether a dead letter was deleted.
    @discardableResult
    private func pruneDeadLetters(_ sql: String, _ values: [SQLiteValue]) throws -> Bool {
        try db.run(sql, values)
        let deleted = db.changes
        try refreshCounts()
        prunedDeadLetters += deleted
        return deleted > 0
    }

    private func insert(_ letters: [DeadLetter]) throws {
        let now = Date().timeIntervalSince1970
        for letter in letters {
            try db.run("INSERT INTO dead_letters (at, status, message, lines) VALUES (?1, ?2, ?3, ?4)",
                       [.real(now), .integer(Int64(letter.status)), .text(letter.message), .text(letter.line)])
            deadLetters += 1
            deadLetterBytes += letter.bytes
        }
    }

    private func removedBatch(_ batch: Batch) {
        batches -= 1
        points -= batch.points
        bytes -= Int64(batch.lines.utf8.count)
    }

    /// One transaction; on failure the in-memory counts are re-read so they match the file.
    private func transaction(_ body: () throws -> Void) throws {
        do {
            try db.transaction(body)
        } catch {
            try? refreshCounts()
            throw error
        }
    }
}
