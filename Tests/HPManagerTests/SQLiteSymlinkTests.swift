import Foundation
@testable import Sinks
import SQLiteKit
import Testing
import TestSupport

/// The store and spool paths: sqlite3_open_v2 follows a symlink and creates or writes its target.
@Suite("SQLite: symlinks at the store and spool paths", .harnessThreads)
struct SQLiteSymlinkTests {
    @Test("a symlink at the database path or its -wal/-shm is refused with a clear error, and its target is never created",
          arguments: ["", "-wal", "-shm"])
    func symlinkRefused(_ suffix: String) throws {
        let dir = try TemporaryDirectory(prefix: "hpm-symlink")
        let path = dir.file("hpmanager.db")
        let target = dir.file("elsewhere\(suffix)")
        try FileManager.default.createSymbolicLink(atPath: path + suffix, withDestinationPath: target)
        let error = try #require(throws: SQLiteError.self) { try SQLiteDatabase(path: path) }
        #expect(error.message == "\(path + suffix) is a symbolic link; refusing to open it (point the path at the real file)")
        #expect(!FileManager.default.fileExists(atPath: target), "the symlink's target was created")
        #expect(throws: SQLiteError.self) { try LineSpool(path: path, maxBytes: 1 << 20) }
    }

    @Test("a symlinked directory on the way is fine (/var/lib/hpmanager → /data/hpmanager)")
    func symlinkedDirectoryAllowed() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-symlink-dir")
        try FileManager.default.createDirectory(atPath: dir.file("real"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir.file("link"), withDestinationPath: dir.file("real"))
        let db = try SQLiteDatabase(path: dir.file("link/hpmanager.db"))
        try db.execute("CREATE TABLE t (x)")
        #expect(FileManager.default.fileExists(atPath: dir.file("real/hpmanager.db")))
    }
}
