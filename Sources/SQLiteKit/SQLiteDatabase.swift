import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One SQLite connection. Not thread-safe: its owner confines it to one thread (or strand).
public final class SQLiteDatabase {
    let handle: OpaquePointer
    public let path: String
    private var cache: [String: SQLiteStatement] = [:]

    /// Mode of a database this process creates; SQLite gives its -wal and -shm files the same mode.
    public static let createMode: mode_t = 0o640

    /// Opens (creating if needed) with WAL journaling, NORMAL sync and a busy timeout.
    ///
    /// A new database is created 0640 (its directory 0750) whatever the umask: it holds the device
    /// registry and audit trail, which other local users have no business reading.
    public init(path: String, busyTimeoutMilliseconds: Int32 = 5000) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            // A failure shows up as sqlite3_open_v2's error below, with the path.
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        }
        try Self.createIfMissing(path)
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw SQLiteError(code: rc, message: "\(message) (\(path))")
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;")
    }

    /// Creates an empty database file with `createMode` (O_EXCL: an existing file is left alone).
    ///
    /// A symlink at the path, or at its `-wal`/`-shm` files, is refused: sqlite3_open_v2 would follow it
    /// and create or write its target, wherever that is. (SQLITE_OPEN_NOFOLLOW would also refuse a
    /// symlinked directory on the way, e.g. /var/lib/hpmanager → /data, and says only "unable to open".)
    private static func createIfMissing(_ path: String) throws {
        guard path != ":memory:", !path.isEmpty, !path.hasPrefix("file:") else { return }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            if lstat(file, &info) == 0, info.st_mode & S_IFMT == S_IFLNK {
                throw SQLiteError(code: SQLITE_CANTOPEN, message: "\(file) is a symbolic link; refusing to open it (point the path at the real file)")
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, createMode)
        if fd < 0 {
            let code = errno
            if code == EEXIST { return }
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot create \(path): \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        guard fchmod(fd, createMode) == 0 else {
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "cannot set the mode of \(path): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements without results.
    public func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        guard rc == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text, sql: sql)
        }
    }

    /// A prepared statement, compiled once per SQL text and reused.
    public func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = cache[sql] { return cached }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql) }
        let statement = SQLiteStatement(handle: stmt, database: handle, sql: sql)
        cache[sql] = statement
        return statement
    }

    public func run(_ sql: String, _ values: [SQLiteValue] = []) throws { try statement(sql).run(values) }
    public func query(_ sql: String, _ values: [SQLiteValue] = []) throws -> [[SQLiteValue]] { try statement(sql).query(values) }

    /// Runs `body` in one transaction (BEGIN IMMEDIATE … COMMIT, rolled back on error).
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Sets a run-time limit of this connection (`sqlite3_limit`, e.g. `SQLITE_LIMIT_LENGTH`); returns the previous value.
    @discardableResult
    public func limit(_ id: Int32, _ value: Int32) -> Int32 { sqlite3_limit(handle, id, value) }

    public var userVersion: Int {
        get throws { Int(try query("PRAGMA user_version").first?.first?.int ?? 0) }
    }

    public func setUserVersion(_ version: Int) throws { try execute("PRAGMA user_version = \(version)") }

    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Rowid of the last row this connection inserted.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Applies `migrations[i]` for every i ≥ the stored user_version, each in a transaction.
    public func migrate(_ migrations: [String]) throws {
        let current = try userVersion
        guard current < migrations.count else { return }
        for version in current..<migrations.count {
            try transaction {
                try execute(migrations[version])
                try setUserVersion(version + 1)
            }
        }
    }

    /// `PRAGMA integrity_check` result ("ok" when healthy).
    public func integrityCheck() throws -> String {
        try query("PRAGMA integrity_check").compactMap { $0.first?.string }.joined(separator: "; ")
    }

}
