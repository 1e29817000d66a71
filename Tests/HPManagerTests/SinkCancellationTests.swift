import Foundation
import HPCore
import Logging
import SQLiteKit
import Sinks
import Synchronization
import Testing
import TestSupport

/// A sink whose task is cancelled (the service group's hard stop, not a graceful shutdown) still
/// keeps what it holds: the Influx inbox reaches the spool, the store's inbox reaches the database,
/// and a transfer in flight is aborted instead of running to its timeout.
@Suite("Sinks under cancellation", .harnessThreads, .serialized)
struct SinkCancellationTests {
    static let device = DeviceLabels(id: "c1", name: "c1", location: "Lab", model: "m", manufacturer: "ACME")

    static func report(_ index: Int) -> PollReport {
        PollReport(device: device, timestamp: 1_700_000_000 + Double(index),
                   samples: [Sample(register: 0, name: "temp", value: .double(Double(index)))],
                   status: DeviceStatus(up: true, lastSuccess: 1_700_000_000 + Double(index)))
    }

    static func influx(url: String, spool: String, batchInterval: Double, timeout: Double = 10) -> InfluxSink {
        var settings = InfluxSettings()
        settings.enabled = true
        settings.url = url
        settings.org = "o"
        settings.bucket = "b"
        settings.timeout = timeout
        settings.retryInterval = 1
        return InfluxSink(settings: settings, batchSize: 100, batchInterval: batchInterval, spoolPath: spool, logger: Logger(label: "test"))
    }

    static func spooledPoints(_ path: String) throws -> Int {
        let spool = try SQLiteDatabase(path: path)
        return Int(try spool.query("SELECT COALESCE(SUM(points), 0) FROM spool").first?[0].int ?? -1)
    }

    /// Waits for `task` to end, at most `timeout` seconds; returns how long it took.
    static func finish(_ task: Task<Void, any Error>, within timeout: Double) async throws -> Double {
        let start = Date()
        let ended = Mutex(false)
        let waiter = Task { _ = await task.result; ended.withLock { $0 = true } }
        defer { waiter.cancel() }
        _ = try await eventually("the cancelled sink to return", timeout: timeout) { ended.withLock { $0 } ? true : nil }
        return Date().timeIntervalSince(start)
    }

    @Test("Influx sink cancelled with points in its inbox: every point is in the spool afterwards")
    func influxInboxKeptOnCancel() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-cancel-influx")
        // Never reached: batch_interval 60 keeps everything in the inbox until the end.
        let sink = Self.influx(url: "http://127.0.0.1:\(try freeLoopbackPort())", spool: dir.file("spool.db"), batchInterval: 60)
        let task = Task { try await sink.run() }
        _ = try await eventually("the spool opened", timeout: 5) { FileManager.default.fileExists(atPath: dir.file("spool.db")) ? true : nil }
        for i in 0..<6 { sink.publish(Self.report(i)) }
        #expect(sink.queueDepth == 6)
        task.cancel()
        _ = try await Self.finish(task, within: 5)
        #expect(sink.queueDepth == 0)
        #expect(try Self.spooledPoints(dir.file("spool.db")) == 6, "the inbox must reach the spool when the service is cancelled")
    }

    @Test("Influx sink cancelled while a write hangs on a slow server: the transfer is aborted and its points are spooled")
    func influxTransferAbortedOnCancel() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-cancel-slow")
        let server = try RecordingHTTPServer(status: 204, answerDelay: 60, directory: dir)
        let sink = Self.influx(url: "http://127.0.0.1:\(server.port)", spool: dir.file("spool.db"), batchInterval: 0.1, timeout: 120)
        let task = Task { try await sink.run() }
        for i in 0..<4 { sink.publish(Self.report(i)) }
        _ = try await eventually("a write in flight", timeout: 10) { server.requests().isEmpty ? nil : true }
        task.cancel()
        // The bound separates an aborted transfer (well under a second alone) from one run to its 120 s
        // timeout; the make test realtime pass once took 5 s here, beside 71 other tests.
        let took = try await Self.finish(task, within: 20)
        #expect(took < 15, "the hanging transfer must be aborted on cancellation, not run to its 120 s timeout (\(took) s)")
        #expect(try Self.spooledPoints(dir.file("spool.db")) == 4, "nothing acknowledged, nothing lost")
    }

    @Test("SQLite store cancelled with rows in its inbox: every row is in the database afterwards")
    func storeInboxFlushedOnCancel() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-cancel-store")
        let path = dir.file("store.db")
        let store = SQLiteStore(path: path, retention: 3600, flushInterval: 60, logger: Logger(label: "test"))
        try await store.open()
        let task = Task { try await store.run() }
        for i in 0..<5 { store.recordEvent(kind: "test_event", heatpumpID: "c1", message: "#\(i)") }
        for i in 0..<3 { store.publish(Self.report(i)) }
        task.cancel()
        _ = try await Self.finish(task, within: 5)
        let db = try SQLiteDatabase(path: path)
        #expect(try db.query("SELECT COUNT(*) FROM events WHERE kind = 'test_event'").first?[0].int == 5)
        #expect(try db.query("SELECT COUNT(*) FROM readings WHERE heatpump_id = 'c1'").first?[0].int == 3)
    }
}
