import CSQLite
import Foundation
import HPCore
import Logging
@testable import Sinks
import SQLiteKit
import Testing
import TestSupport

/// A real SQLite file made to fail (a full database: `max_page_count` at its current size).
@Suite("SQLite store faults", .harnessThreads)
struct SQLiteStoreFaultTests {
    @Test("each failure episode is logged once when it starts and once when writes succeed again")
    func failureEpisodes() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-store-fault")
        let capture = LogCapture()
        let store = SQLiteStore(path: dir.file("store.db"), retention: 86400, logger: capture.logger)
        try await store.open()
        let big = String(repeating: "x", count: 64 * 1024)
        for episode in 1...2 {
            try await Self.fill(store)
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
        // Four per episode: the three flushes while full, and the one before the limit is lifted (the
        // rows of the failed flushes are kept and tried again).
        #expect(errors == 8, "every failed flush is still counted")
    }

    /// Full: no page may be added (`max_page_count` at the current size), so a large row fails with SQLITE_FULL.
    static func fill(_ store: SQLiteStore) async throws {
        try await store.onStore { db in
            let pages = try db.query("PRAGMA page_count").first?.first?.int ?? 1
            try db.execute("PRAGMA max_page_count = \(pages)")
        }
    }

    static func metric(_ store: SQLiteStore, _ name: String) -> Double? { store.daemonMetrics().first { $0.name == name }?.value }

    static func count(_ store: SQLiteStore, _ sql: String) async throws -> Int64 {
        try await store.onStore { db in try db.query(sql).first?.first?.int ?? -1 }
    }

    static func report(_ id: String, at t: Double) -> PollReport {
        PollReport(device: DeviceLabels(id: id, name: id, location: "", model: "m", manufacturer: ""), timestamp: t,
                   samples: [Sample(register: 0, name: "flow", value: .double(t))], status: DeviceStatus(up: true, lastSuccess: t))
    }

    @Test("a failed flush keeps its rows: once the disk has room, every event, alert and reading is written exactly once")
    func failedFlushKeepsRows() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-store-keep")
        let store = SQLiteStore(path: dir.file("store.db"), retention: 86400, logger: LogCapture().logger)
        try await store.open()
        try await Self.fill(store)
        let big = String(repeating: "x", count: 64 * 1024)
        for round in 0..<3 {
            store.recordEvent(kind: "kept", message: big + "\(round)")
            store.publish(Self.report("hp\(round)", at: 1000 + Double(round)))
            store.recordAlertRaised(rule: "r\(round)", heatpumpID: "hp\(round)", severity: "warning", at: 1000, value: 1, message: "m")
            try await store.onStore { _ in }  // a flush that fails: the database is full
        }
        // More rows than a failing flush probes with (SQLiteStore.probeRows) wait as well.
        for i in 0..<(SQLiteStore.probeRows * 2 + 17) { store.publish(Self.report("bulk", at: 3000 + Double(i))) }
        try await store.onStore { _ in }
        #expect(Self.metric(store, "hpmanager_sqlite_write_errors_total") == 4)
        #expect(Self.metric(store, "hpmanager_sink_queue_depth") ?? 0 >= 9, "the failed rows wait in the inbox")
        try await store.onStore { db in try db.execute("PRAGMA max_page_count = 1073741823") }
        #expect(try await Self.count(store, "SELECT count(*) FROM events WHERE kind = 'kept'") == 3)
        #expect(try await Self.count(store, "SELECT count(DISTINCT message) FROM events WHERE kind = 'kept'") == 3)
        // One flush after the fault wrote everything: the probe succeeded, then the rest went at once.
        #expect(try await Self.count(store, "SELECT count(*) FROM readings") == 3 + Int64(SQLiteStore.probeRows * 2 + 17))
        #expect(try await Self.count(store, "SELECT count(*) FROM alerts") == 3)
        // Written once: a further flush adds nothing.
        try await store.onStore { _ in }
        #expect(try await Self.count(store, "SELECT count(*) FROM readings") == 3 + Int64(SQLiteStore.probeRows * 2 + 17))
        #expect(Self.metric(store, "hpmanager_sink_dropped_total") == 0)
    }

    @Test("a full inbox (failed rows waiting) makes room by dropping its oldest readings; events are kept; drops are counted")
    func boundedRequeue() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-store-bound")
        let store = SQLiteStore(path: dir.file("store.db"), retention: 86400, inboxCapacity: 6, logger: LogCapture().logger)
        try await store.open()
        try await Self.fill(store)
        let big = String(repeating: "y", count: 64 * 1024)
        store.recordEvent(kind: "first", message: big)
        // The first reading also queues a device_up event: 6 rows, the inbox is full.
        for i in 0..<4 { store.publish(Self.report("hp", at: 2000 + Double(i))) }
        try await store.onStore { _ in }  // fails: all 6 back in the inbox
        store.recordEvent(kind: "second", message: "after the failure")
        store.publish(Self.report("hp", at: 2010))
        store.publish(Self.report("hp", at: 2011))  // 3 rows more for no place: the readings of 2000–2002 go
        try await store.onStore { _ in }  // fails again: all 6 back, none lost
        try await store.onStore { db in try db.execute("PRAGMA max_page_count = 1073741823") }
        #expect(try await Self.count(store, "SELECT count(*) FROM events WHERE kind IN ('first', 'second', 'device_up')") == 3, "events survive")
        let readings = try await Self.count(store, "SELECT count(*) FROM readings")
        let dropped = Self.metric(store, "hpmanager_sink_dropped_total") ?? -1
        #expect(readings + Int64(dropped) == 6, "every reading is written or counted as dropped (\(readings) written, \(dropped) dropped)")
        #expect(readings == 3 && dropped == 3, "\(readings) written, \(dropped) dropped")
        // The oldest went first: the newest readings are there.
        #expect(try await Self.count(store, "SELECT count(*) FROM readings WHERE at >= 2003") == 3)
    }

    @Test("a row SQLite refuses for its content is skipped and counted, the rest of the flush is written, and it is not retried")
    func refusedRowSkipped() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-store-refused")
        let capture = LogCapture()
        let store = SQLiteStore(path: dir.file("store.db"), retention: 86400, logger: capture.logger)
        try await store.open()
        // This connection refuses values over 10,000 bytes (SQLITE_TOOBIG at bind).
        _ = try await store.onStore { db in db.limit(SQLITE_LIMIT_LENGTH, 10_000) }
        store.recordEvent(kind: "small", message: "before")
        store.recordEvent(kind: "huge", message: String(repeating: "z", count: 20_000))
        store.recordEvent(kind: "small", message: "after")
        try await store.onStore { _ in }
        try await store.onStore { _ in }
        #expect(try await Self.count(store, "SELECT count(*) FROM events WHERE kind = 'small'") == 2)
        #expect(try await Self.count(store, "SELECT count(*) FROM events WHERE kind = 'huge'") == 0)
        #expect(Self.metric(store, "hpmanager_sqlite_rows_rejected_total") == 1, "counted once, not retried")
        #expect(Self.metric(store, "hpmanager_sqlite_write_errors_total") == 0, "the flush itself succeeded")
        #expect(capture.count(.error, containing: "SQLite refused rows") == 1)
    }
}
