import CurlKit
import Foundation
@testable import Sinks
import SQLiteKit
import Synchronization
import Testing
import TestSupport

@Suite("Influx spool (SQLite)", .harnessThreads)
struct InfluxSpoolTests {
    @Test("FIFO order, bound by size with the oldest batches dropped and counted, state survives reopening")
    func bounded() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-spool")
        let path = dir.file("spool.db")
        let line = String(repeating: "x", count: 100)
        do {
            let spool = try LineSpool(path: path, maxBytes: 1000)
            for batch in 0..<5 { try spool.append((0..<2).map { "b\(batch) \(line)\($0)" }) }  // ~206 bytes each
            #expect(spool.batches == 4 && spool.points == 8, "one batch over the bound was dropped")
            #expect(spool.droppedPoints == 2)
            let oldest = try #require(try spool.oldest())
            #expect(oldest.lines.hasPrefix("b1 "), "the oldest batch went first")
            try spool.delete(oldest)
            try spool.deadLetter(status: 400, message: "field type conflict", lines: ["bad line"])
        }
        let reopened = try LineSpool(path: path, maxBytes: 1000)
        #expect(reopened.batches == 3 && reopened.points == 6)
        #expect(try reopened.oldest()?.lines.hasPrefix("b2 ") == true)
        let db = try SQLiteDatabase(path: path)
        #expect(try db.query("SELECT status, message FROM dead_letters").first.map { [$0[0].int.map(String.init), $0[1].string] } == ["400", "field type conflict"])
    }
}

extension InfluxSpoolTests {
    @Test("dead letters: pruned beyond dead_letter_max and after dead_letter_retention, counted against the size bound (and dropped first)")
    func deadLetterBounds() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-dead")
        let path = dir.file("spool.db")
        let spool = try LineSpool(path: path, limits: .init(maxBytes: 2000, deadLetterRetention: 3600, deadLetterMax: 3))
        for i in 0..<5 { try spool.deadLetter(status: 400, message: "m\(i)", lines: ["line \(i)"]) }
        #expect(spool.deadLetters == 3 && spool.prunedDeadLetters == 2)
        let db = try SQLiteDatabase(path: path)
        #expect(try db.query("SELECT message FROM dead_letters ORDER BY id").compactMap { $0[0].string } == ["m2", "m3", "m4"], "the oldest went first")
        // Age: a letter older than the retention is pruned on the next change.
        try db.run("UPDATE dead_letters SET at = at - 7200 WHERE message = 'm2'")
        try spool.enforceBounds(now: Date())
        #expect(try db.query("SELECT message FROM dead_letters ORDER BY id").compactMap { $0[0].string } == ["m3", "m4"])
        // Size: batches and dead letters share spool_max_mb; dead letters are dropped before any batch.
        try spool.append([String(repeating: "p", count: 1990)])
        #expect(spool.batches == 1 && spool.droppedPoints == 0, "the batch stays")
        #expect(spool.deadLetters == 1 && spool.prunedDeadLetters == 4, "only as many dead letters as needed went")
        #expect(spool.bytes + spool.deadLetterBytes <= 2000)
    }
}

extension InfluxSpoolTests {
    @Test("a replay step: the oldest whole batches within a point budget (at least one); what was not taken keeps the oldest batch's place, with the dead letters in the same commit")
    func replayStep() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-step")
        let path = dir.file("spool.db")
        let spool = try LineSpool(path: path, maxBytes: 1 << 20)
        try spool.append(batches: [["a1", "a2"], ["b1", "b2", "b3"], ["c1"], ["d1", "d2"]])
        #expect(spool.batches == 4 && spool.points == 8)
        #expect(try spool.oldest(points: 1, limit: 10).map(\.points) == [2], "the oldest batch even over the budget")
        #expect(try spool.oldest(points: 6, limit: 10).map(\.points) == [2, 3, 1])
        #expect(try spool.oldest(points: 100, limit: 2).map(\.points) == [2, 3])
        let taken = try spool.oldest(points: 6, limit: 10)
        try spool.settle(taken, remaining: ["b3", "a2"], deadLetters: [.init(status: 400, message: "refused", line: "c1")])
        #expect(spool.batches == 2 && spool.points == 4 && spool.deadLetters == 1)
        #expect(try spool.oldest(points: 100, limit: 10).map(\.lines) == ["b3\na2", "d1\nd2"], "the rest first, then the batch not taken")
        let reopened = try LineSpool(path: path, maxBytes: 1 << 20)
        #expect(reopened.batches == 2 && reopened.points == 4 && reopened.bytes == spool.bytes && reopened.deadLetters == 1)
        try spool.settle(try spool.oldest(points: 100, limit: 10), remaining: [], deadLetters: [])
        #expect(spool.isEmpty && spool.points == 0 && spool.bytes == 0)
    }
}

/// The real daemon replaying a spool to a real influxd while it is killed with SIGKILL again and again.
@Suite("Influx spool replay across kill -9", .harnessThreads, .serialized)
struct InfluxSpoolCrashTests {
    @Test("repeated kill -9 during replay: every spooled point arrives once, every unsalvageable line is dead-lettered once")
    func killDuringReplay() async throws {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE hpm")
        let dir = try TemporaryDirectory(prefix: "hpm-kill")
        let spoolPath = dir.file("spool.db")
        // `g` is a string in the bucket: a line with only a float `g` cannot be salvaged.
        let client = try CurlHTTPClient(options: .init(timeout: 5))
        let t0: Int64 = 1_700_000_000_000_000_000
        #expect(try client.post(url: "\(influx.url)/write?db=hpm", body: Array("heatpump_metrics,heat_pump_id=seed g=\"x\" \(t0)".utf8), headers: []).status == 204)
        // 1500 requests, at most 200 per sender round of 0.3 s: a replay takes at least 2.4 s, long enough to
        // be killed several times mid-way even when this process is starved for a while.
        let points = 3000, batch = 2
        var expectedSum = 0, bad = 0
        do {
            let spool = try LineSpool(path: spoolPath, maxBytes: 1 << 30)
            for start in stride(from: 0, to: points, by: batch) {
                var lines: [String] = []
                for i in start..<(start + batch) {
                    if i % 50 == 7 {
                        lines.append("heatpump_metrics,heat_pump_id=k g=1.5 \(t0 + Int64(i) * 1_000_000)")
                        bad += 1
                    } else {
                        lines.append("heatpump_metrics,heat_pump_id=k f=\(i) \(t0 + Int64(i) * 1_000_000)")
                        expectedSum += i
                    }
                }
                try spool.append(lines)
            }
        }
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "off", port: sim.ports[0], enabled: false)], interval: 0.2,
                                        collectorKeys: "  batch_size: 5\n  batch_interval: 0.3", extraSections: """
        influxdb:
          url: \(influx.url)
          version: 1
          database: hpm
          retry_interval: 0.2
          spool_path: \(spoolPath)
        """)
        func stored() throws -> Int { try InfluxTests.count(influx, "k", field: "f") }
        var kills = 0, last = 0
        while kills < 6 {
            let daemon = try harness.start()
            // Kill as soon as this run has moved the replay forward (mid-replay, between any two steps).
            let progressed = try await eventually("replay progress", timeout: 15, interval: 0.01) { () -> Int? in
                let now = try stored()
                return now > last || now == points - bad ? now : nil
            }
            daemon.process.signal(SIGKILL)
            _ = daemon.process.waitForExit(timeout: 5)
            kills += 1
            last = progressed
            if progressed == points - bad { break }
        }
        try? FileManager.default.removeItem(atPath: harness.metricsPath)
        let daemon = try harness.start()
        let db = try SQLiteDatabase(path: spoolPath)
        _ = try await DaemonHarness.waitFor(daemon, "the last run up (signal handlers installed)") { $0.has("hpmanager_influx_spooled_points") }
        _ = try await eventually("spool drained", timeout: 30) { try db.query("SELECT COUNT(*) FROM spool").first?[0].int == 0 ? true : nil }
        #expect(daemon.process.stop() == 0)
        #expect(kills >= 2, "the replay was interrupted \(kills) times")
        #expect(try stored() == points - bad, "every point once")
        let sum = try influx.select("SELECT SUM(f) FROM heatpump_metrics WHERE heat_pump_id = 'k'", db: "hpm").first?["sum"] as? Double
        #expect(sum == Double(expectedSum), "no point missing, none altered")
        let letters = try db.query("SELECT lines FROM dead_letters").compactMap { $0[0].string }
        #expect(letters.count == bad && Set(letters).count == bad, "each unsalvageable line dead-lettered exactly once (\(letters.count) for \(bad))")
    }
}

extension InfluxSpoolTests {
    struct DriftResult: Sendable {
        var deadLettersBefore = 0
        var deadLetters = -1
        var deadLetterBytes: Int64 = -1
        var pruned = -1
        var batches = -1
    }

    /// Before: pruning that deleted nothing returned without re-reading the counts, so the size loop
    /// spun forever on the Influx thread.
    @Test("dead-letter counts that drifted from the file are re-read: the size bound terminates")
    func driftedDeadLetterCounts() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-drift")
        let path = dir.file("spool.db")
        // On a thread of its own, so a spin fails the test at the deadline instead of hanging it.
        let result = Mutex<DriftResult?>(nil)
        let worker = Thread {
            var r = DriftResult()
            do {
                let spool = try LineSpool(path: path, maxBytes: 1000)
                for i in 0..<3 { try spool.deadLetter(status: 400, message: "m\(i)", lines: [String(repeating: "d", count: 100)]) }
                r.deadLettersBefore = spool.deadLetters
                // The file changes behind the spool's back (another process, a rolled-back transaction).
                try SQLiteDatabase(path: path).run("DELETE FROM dead_letters")
                try spool.append([String(repeating: "x", count: 1200)])
                r.deadLetters = spool.deadLetters
                r.deadLetterBytes = spool.deadLetterBytes
                r.pruned = spool.prunedDeadLetters
                r.batches = spool.batches
            } catch {
                Issue.record("\(error)")
            }
            result.withLock { $0 = r }
        }
        worker.start()
        let r = try await eventually("the size bound terminates with drifted counts", timeout: 5) { result.withLock { $0 } }
        #expect(r.deadLettersBefore == 3)
        #expect(r.deadLetters == 0 && r.deadLetterBytes == 0, "counts re-read from the file")
        #expect(r.pruned == 0, "nothing was pruned: the letters were already gone")
        #expect(r.batches == 1, "a single batch over the bound stays (the newest is never dropped)")
    }
}
