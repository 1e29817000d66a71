import CSQLite
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An online backup with SQLite's backup API: a consistent copy of a live database (WAL included)
/// while its owner keeps writing, as `sqlite3 DB ".backup FILE"` makes it.
public enum SQLiteBackup {
    public struct Result: Sendable {
        public var pages: Int
        public var bytes: Int
    }

    /// Copies `source` to `destination`, which must not exist (created 0640, never overwritten).
    /// The copy is checked with `PRAGMA integrity_check` before this returns.
    public static func copy(from source: String, to destination: String, busyTimeoutMilliseconds: Int32 = 5000) throws -> Result {
        guard FileManager.default.fileExists(atPath: source) else {
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "no database at \(source)")
        }
        // O_EXCL: a backup never replaces a file, least of all through a symlink.
        let fd = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, SQLiteDatabase.createMode)
        guard fd >= 0 else {
            let code = errno
            throw SQLiteError(code: SQLITE_CANTOPEN, message: code == EEXIST ? "\(destination) exists; choose a new file"
                : "cannot create \(destination): \(String(cString: strerror(code)))")
        }
        fchmod(fd, SQLiteDatabase.createMode)
        close(fd)
        var completed = false
        defer { if !completed { unlink(destination) } }

        var src: OpaquePointer?
        guard sqlite3_open_v2(source, &src, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let src else {
            let message = src.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(src)
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "\(message) (\(source))")
        }
        defer { sqlite3_close_v2(src) }
        sqlite3_busy_timeout(src, busyTimeoutMilliseconds)
        var dst: OpaquePointer?
        guard sqlite3_open_v2(destination, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let dst else {
            let message = dst.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(dst)
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "\(message) (\(destination))")
        }
        defer { sqlite3_close_v2(dst) }
        guard let backup = sqlite3_backup_init(dst, "main", src, "main") else {
            throw SQLiteError(code: sqlite3_errcode(dst), message: String(cString: sqlite3_errmsg(dst)))
        }
        // 256 pages per step: the writer is never locked out for long; busy steps retry, bounded.
        var rc: Int32 = SQLITE_OK
        var busyRetries = 0
        repeat {
            rc = sqlite3_backup_step(backup, 256)
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED {
                busyRetries += 1
                if busyRetries > 500 { break }
                sqlite3_sleep(10)
            }
        } while rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED
        let pages = Int(sqlite3_backup_pagecount(backup))
        sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE else {
            throw SQLiteError(code: rc, message: "backup of \(source) failed: \(String(cString: sqlite3_errstr(rc)))")
        }
        // The copy is a rollback-journal file of its own; check it before calling it a backup.
        var check: OpaquePointer?
        guard sqlite3_prepare_v2(dst, "PRAGMA integrity_check", -1, &check, nil) == SQLITE_OK, let check else {
            throw SQLiteError(code: sqlite3_errcode(dst), message: String(cString: sqlite3_errmsg(dst)))
        }
        defer { sqlite3_finalize(check) }
        guard sqlite3_step(check) == SQLITE_ROW, let text = sqlite3_column_text(check, 0), String(cString: text) == "ok" else {
            throw SQLiteError(code: SQLITE_CORRUPT, message: "the backup \(destination) failed its integrity check")
        }
        completed = true
        let size = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        return Result(pages: pages, bytes: size)
    }
}
