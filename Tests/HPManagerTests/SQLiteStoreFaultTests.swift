import Foundation
import Logging
@testable import Sinks
import SQLiteKit
import Testing
import TestSupport

/// A real SQLite file made to fail (a full database: `max_page_count` at its current size).
@Suite("SQLite store faults")
struct SQLiteStoreFaultTests {
    @Test("each failure episode is logged once when it starts and once when writes succeed again")
    func failureEpisodes() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-store-fault")
        let capture = LogCapture()
        let store = SQLiteStore(path: dir.file("store.db"), retention: 86400, logger: capture.logger)
        try await store.open()
        let big = String(repeating: "x", count: 64 * 1024)
        for episode in 1...2 {
            // Full: no page may be added, so every flush with a large row fails with SQLITE_FULL.
            try await store.onStore { db in
                let pages = try db.query("PRAGMA page_count").first?.first?.int ?? 1
                try db.execute("PRAGMA max_page_count = \(pages)")
            }
            for _ in 0..<3 {
                store.recordEvent(kind: "test", message: big)
                try await store.onStore { _ in }
            }
            #expect(capture.count(.error, containing: "SQLite write failed") == episode, "one error line per episode")
            try await store.onStore { db in try db.execute("PRAGMA max_page_count = 1073741823") }
            store.recordEvent(kind: "test", message: "small")
            try await store.onStore { _ in }
            #expect(capture.count(.notice, containing: "SQLite writes succeed again") == episode)
        }
        let errors = store.daemonMetrics().first { $0.name == "hpmanager_sqlite_write_errors_total" }?.value
        #expect(errors == 6, "every failed flush is still counted")
    }
}
