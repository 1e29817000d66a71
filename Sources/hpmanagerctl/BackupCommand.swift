import ArgumentParser
import ControlProtocol
import Foundation
import SQLiteKit

/// `hpmanagerctl backup FILE`: an online, consistent copy of the daemon's SQLite store (registry,
/// runtime devices, alerts, events, audit, history, write budgets and jobs) while it keeps running.
/// The copy is made by this process with SQLite's backup API, so FILE may be anywhere the caller can
/// write (the daemon itself is sandboxed to its own directories).
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the daemon's SQLite store to FILE (online, consistent, integrity-checked).",
        discussion: """
        The store's path comes from the running daemon; --db names it when the daemon is stopped.
        FILE must not exist. Restore: stop the daemon, copy FILE over the store, start the daemon.
        """
    )

    @OptionGroup var connection: Connection

    @Option(help: "The store to copy (default: ask the running daemon).")
    var db: String?

    @Argument(help: "The new backup file.")
    var file: String

    func run() throws {
        let source: String
        if let db {
            source = db
        } else {
            let ping = try connection.call("ping")
            guard let path = ping["store_path"]?.string, !path.isEmpty else {
                connection.session.fail("the daemon reports no SQLite store; pass --db PATH", 1)
            }
            source = path
        }
        let target = (file as NSString).isAbsolutePath ? file : FileManager.default.currentDirectoryPath + "/" + file
        do {
            let result = try SQLiteBackup.copy(from: source, to: target)
            let summary: JSONValue = .object(["source": .string(source), "file": .string(target), "pages": JSONValue(result.pages),
                                              "bytes": JSONValue(result.bytes)])
            connection.show(summary) { _ in "backed up \(source) to \(target) (\(result.bytes) bytes, integrity ok)" }
        } catch let error as SQLiteError {
            connection.session.fail("backup failed: \(error)", 74)
        }
    }
}
