import CSQLite

/// A failed sqlite3 call: result code, sqlite's message, and the statement involved.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    public var code: Int32
    public var message: String
    public var sql: String

    public init(code: Int32, message: String, sql: String = "") {
        self.code = code
        self.message = message
        self.sql = sql
    }

    public var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }

    /// The row itself is refused (too big, a constraint, a type mismatch, a bad bind index): writing
    /// it again can never succeed, unlike a full disk, an I/O error or a lock, which pass.
    public var rejectsRow: Bool {
        let primary = code & 0xFF
        return primary == SQLITE_TOOBIG || primary == SQLITE_CONSTRAINT || primary == SQLITE_MISMATCH || primary == SQLITE_RANGE
    }

    public var description: String {
        sql.isEmpty ? "sqlite error \(code): \(message)" : "sqlite error \(code): \(message) in \(sql.prefix(120))"
    }
}
