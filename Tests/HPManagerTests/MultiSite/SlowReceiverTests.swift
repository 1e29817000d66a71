import CurlKit
import Foundation
import HPCore
import Logging
@testable import Sinks
import SwiftProtobuf
import Testing
import TestSupport

/// A receiver that is alive but slower than the intake (a loaded VictoriaMetrics, a slow WAN) must
/// cost no point while spool space remains: what arrives beyond the inbox while requests are in
/// flight goes to the durable spool, in order, and only beyond the inbox's hard bound is dropped.
/// Real receivers: a recording HTTP server on a free loopback port that holds every answer back.
@Suite("slow receiver: overflow goes to the spool", .harnessThreads, .serialized)
struct SlowReceiverTests {
    /// `registers` numeric registers; remote write makes `registers + 2` samples of it (with
    /// `heatpump_up` and the poll duration), Influx one point. No spaces in tags: lines split simply.
    static func report(device: Int, poll: Int, registers: Int = 4) -> PollReport {
        PollReport(device: DeviceLabels(id: "hp-\(device)", name: "hp-\(device)", location: "", model: "m", manufacturer: "x"),
                   timestamp: 1_700_000_000 + Double(poll), samples: (0..<registers).map { Sample(register: $0, name: "r\($0)", value: .double(Double(poll))) },
                   status: DeviceStatus(state: .polling, up: true, pollDuration: 0.01))
    }

    static func remoteWrite(_ server: RecordingHTTPServer, _ dir: TemporaryDirectory, capacity: Int, perSend: Int, shards: Int,
                            minBackoff: Double = 1) -> RemoteWriteSink {
        var settings = RemoteWriteSettings()
        settings.name = "slow"
        settings.url = "http://127.0.0.1:\(server.port)/api/v1/write"
        settings.timeout = 10
        settings.queue.capacity = capacity
        settings.queue.maxSamplesPerSend = perSend
        settings.queue.maxShards = shards
        settings.queue.batchSendDeadline = 0.05
        settings.queue.minBackoff = minBackoff
        settings.queue.maxBackoff = max(minBackoff, 0.2)
        return RemoteWriteSink(settings: settings, spoolPath: dir.file("rw.db"), version: "test", logger: Logger(label: "t"))
    }

    /// The samples of every request the receiver accepted, in arrival order: (series, timestamp).
    static func acceptedSamples(_ server: RecordingHTTPServer) throws -> [(series: String, timestamp: Int64)] {
        var samples: [(String, Int64)] = []
        for request in server.requests() where ((request["status"] as? Int) ?? 0) / 100 == 2 {
            let raw = try #require(Data(base64Encoded: request["raw"] as? String ?? ""), "a remote-write body")
            let message = try Prometheus_WriteRequest(serializedBytes: try Snappy.uncompress(Array(raw)))
            for series in message.timeseries {
                let key = series.labels.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: ",")
                for sample in series.samples { samples.append((key, sample.timestamp)) }
            }
        }
        return samples
    }

    /// Each (series, timestamp) once, and each series' timestamps increasing in the order they arrived.
    static func checkOnceAndInOrder(_ samples: [(series: String, timestamp: Int64)], expected: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(samples.count == expected, "the receiver took \(samples.count) of \(expected)", sourceLocation: sourceLocation)
        #expect(Set(samples.map { "\($0.series)@\($0.timestamp)" }).count == samples.count, "a sample arrived twice", sourceLocation: sourceLocation)
        var last: [String: Int64] = [:]
        var outOfOrder = 0
        for sample in samples {
            if let previous = last[sample.series], previous >= sample.timestamp { outOfOrder += 1 }
            last[sample.series] = sample.timestamp
        }
        #expect(outOfOrder == 0, "\(outOfOrder) samples arrived before an older one of their series", sourceLocation: sourceLocation)
    }

    @Test("remote write: what arrives while a slow receiver holds a round goes to the spool: nothing dropped, every sample once, each series in order, spool drained")
    func remoteWriteSpillsOverflow() async throws {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 204, answerDelay: 1.0, directory: dir)
        // A round takes one window (100: five requests of 20 over two shards, three answers of 1 s in a
        // row). The 300 samples published while it is in flight are more than the next round's window,
        // so they must go to the spool, however fast or slow the machine runs this test (no rates).
        let sink = Self.remoteWrite(server, dir, capacity: 100, perSend: 20, shards: 2)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        var published = 0
        func publish(_ polls: Range<Int>) {
            for n in polls {
                sink.publish(Self.report(device: n % 10, poll: n / 10))
                published += 6
            }
        }
        publish(0..<17)  // 102 samples: one window and two more
        // Deadlines only bound a failure: make test's first pass once kept this sink's first round
        // from starting for 10 s (a starved test process), with nothing wrong in the sink.
        _ = try await eventually("the first round took its window", timeout: 30) { sink.queueDepth <= 2 ? true : nil }
        publish(17..<67)  // 300 while the round waits for its answers
        let deepest = sink.queueDepth
        let total = published
        let sent = try? await eventually("every sample sent", timeout: 40) { sink.snapshot.sent == total ? true : nil }
        let c = sink.snapshot
        #expect(sent == true, "sent \(c.sent) of \(total), dropped \(c.inboxDropped), spooled \(sink.spooledSamples), failures \(c.sendFailures) \(c.lastError)")
        #expect(c.inboxDropped == 0 && c.spoolDropped == 0 && c.spoolWriteDropped == 0)
        #expect(c.overflowSpilled > 0, "the receiver was slower than the intake: the overflow went to the spool")
        #expect(deepest <= 500, "memory bound: capacity + 4 × capacity, saw \(deepest)")
        _ = try await eventually("spool drained", timeout: 30) { sink.spooledSamples == 0 ? true : nil }
        task.cancel()
        _ = try? await task.value
        Self.checkOnceAndInOrder(try Self.acceptedSamples(server), expected: total)
        let metrics = sink.daemonMetrics()
        #expect(metrics.first { $0.name == "hpmanager_remote_write_overflow_spilled_samples_total" }?.value == Double(c.overflowSpilled))
    }

    @Test("Influx: what arrives while a slow InfluxDB holds a request goes to the spool: nothing dropped, every point once, each series in order, spool drained")
    func influxSpillsOverflow() async throws {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 204, answerDelay: 1.0, directory: dir)
        var settings = InfluxSettings()
        settings.enabled = true
        settings.url = "http://127.0.0.1:\(server.port)"
        settings.org = "o"
        settings.bucket = "b"
        settings.timeout = 10
        settings.retryInterval = 1
        // A round is one request of 10, answered after 1 s; the 35 points published meanwhile are more
        // than two windows (20) and below the inbox's bound (50), so
        // they go to the spool, whatever the machine's speed.
        let sink = InfluxSink(settings: settings, batchSize: 10, batchInterval: 0.05, spoolPath: dir.file("influx.db"), inboxCapacity: 10,
                              logger: Logger(label: "t"))
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        for n in 0..<10 { sink.publish(Self.report(device: n % 9, poll: n / 9)) }
        _ = try await eventually("the first round took its window", timeout: 30) { sink.queueDepth == 0 ? true : nil }
        for n in 10..<45 { sink.publish(Self.report(device: n % 9, poll: n / 9)) }
        let deepest = sink.queueDepth
        let total = 45
        let sent = try? await eventually("every point sent", timeout: 40) { sink.snapshot.sent == total ? true : nil }
        let c = sink.snapshot
        #expect(sent == true, "sent \(c.sent) of \(total), dropped \(c.inboxDropped), spooled \(sink.spooledPoints), failures \(c.sendFailures) \(c.lastError)")
        #expect(c.inboxDropped == 0 && c.spoolDropped == 0 && c.spoolWriteDropped == 0)
        #expect(c.overflowSpilled > 0, "InfluxDB was slower than the intake: the overflow went to the spool")
        #expect(deepest <= 50, "memory bound: capacity + 4 × capacity, saw \(deepest)")
        _ = try await eventually("spool drained", timeout: 30) { sink.spooledPoints == 0 ? true : nil }
        task.cancel()
        _ = try? await task.value
        var points: [(series: String, timestamp: Int64)] = []
        for request in server.requests() where ((request["status"] as? Int) ?? 0) / 100 == 2 {
            for line in (request["body"] as? String ?? "").split(separator: "\n") {
                let parts = line.split(separator: " ")
                points.append((String(parts[0]), Int64(parts[parts.count - 1]) ?? -1))
            }
        }
        Self.checkOnceAndInOrder(points, expected: total)
        #expect(sink.daemonMetrics().first { $0.name == "hpmanager_influx_overflow_spilled_points_total" }?.value == Double(c.overflowSpilled))
    }

    @Test("beyond the hard bound (capacity + 4 × capacity) a burst is dropped and counted as inbox_full; what was kept arrives once; memory stays bounded")
    func hardBound() async throws {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 204, answerDelay: 1, directory: dir)
        let sink = Self.remoteWrite(server, dir, capacity: 10, perSend: 10, shards: 1)
        #expect(sink.inboxLimit == 50)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        sink.publish(Self.report(device: 0, poll: 0))
        _ = try await eventually("a request in flight", timeout: 30) { server.requests().isEmpty ? nil : true }
        // 240 samples while the sender waits for the answer: only 50 fit.
        var deepest = 0
        for poll in 1...40 {
            sink.publish(Self.report(device: poll % 4, poll: poll))
            deepest = max(deepest, sink.queueDepth)
        }
        let dropped = sink.snapshot.inboxDropped
        #expect(deepest <= 50, "the inbox never holds more than its hard bound, saw \(deepest)")
        #expect(dropped >= 240 - 2 * 50, "the burst was cut at the bound: dropped \(dropped)")
        let total = 6 + 240 - dropped
        let sent = try? await eventually("what was kept sent", timeout: 30) { sink.snapshot.sent == total ? true : nil }
        #expect(sent == true, "sent \(sink.snapshot.sent) of \(total)")
        _ = try await eventually("spool drained", timeout: 30) { sink.spooledSamples == 0 ? true : nil }
        task.cancel()
        _ = try? await task.value
        Self.checkOnceAndInOrder(try Self.acceptedSamples(server), expected: total)
        let counted = sink.daemonMetrics().first { $0.name == "hpmanager_remote_write_dropped_samples_total" && $0.labels.contains { $0 == ("reason", "inbox_full") } }
        #expect(counted?.value == Double(dropped))
    }

    @Test("a spooled backlog is replayed through the shards, several requests at once, each series in order and once", arguments: [1, 4])
    func shardedReplay(shards: Int) async throws {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 503, answerDelay: 0.3, directory: dir)
        let sink = Self.remoteWrite(server, dir, capacity: 10_000, perSend: 20, shards: shards, minBackoff: 0.05)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        // 100 polls of 25 devices, 4 samples each: 400 samples, 20 requests' worth.
        for poll in 0..<4 {
            for device in 0..<25 { sink.publish(Self.report(device: device, poll: poll, registers: 2)) }
        }
        _ = try await eventually("all spooled while the receiver refuses", timeout: 20) { sink.spooledSamples == 400 ? true : nil }
        let switched = Date()
        try server.setStatus(204)
        let sent = try? await eventually("replayed", timeout: 30) { sink.snapshot.sent == 400 ? true : nil }
        let took = Date().timeIntervalSince(switched)
        #expect(sent == true, "sent \(sink.snapshot.sent) of 400, \(sink.snapshot.lastError)")
        task.cancel()
        _ = try? await task.value
        Self.checkOnceAndInOrder(try Self.acceptedSamples(server), expected: 400)
        // Accepted requests that arrived within one answer's delay of each other were in flight together.
        let arrivals = server.requests().filter { ($0["status"] as? Int) == 204 }.compactMap { $0["at"] as? Double }.sorted()
        let overlapping = zip(arrivals, arrivals.dropFirst()).filter { $1 - $0 < 0.2 }.count
        if shards > 1 {
            #expect(overlapping >= arrivals.count / 2, "replay sent requests one at a time: \(overlapping) of \(arrivals.count) overlapped, \(took) s")
        } else {
            #expect(overlapping == 0)
        }
        print("replay of 400 spooled samples in requests of 20 to a 0.3 s receiver, \(shards) shard(s): \(String(format: "%.2f", took)) s, \(arrivals.count) requests")
    }

    @Test("the inbox: a direct-send window, an overflow of 4 × capacity by default (spilled beyond two windows), nothing beyond; taken oldest first")
    func inboxBounds() {
        let inbox = SpoolInbox<Int>(capacity: 3)
        #expect(inbox.limit == 15 && !inbox.isOverflowing)
        #expect(inbox.append(0..<6) == 0 && !inbox.isOverflowing, "two windows wait in memory")
        #expect(inbox.append(6..<7) == 0 && inbox.isOverflowing, "more go to the spool")
        #expect(inbox.append(7..<20) == 5 && inbox.count == 15)
        #expect(inbox.take(maximum: 3) == [0, 1, 2])
        #expect(inbox.takeAll() == Array(3..<15) && inbox.count == 0)
        #expect(SpoolInbox<Int>(capacity: 100_000_000).limit == 500_000_000)
        #expect(SpoolInbox<Int>(capacity: Int.max).limit == Int.max, "no trap on a huge capacity")
        #expect(SpoolInbox<Int>(capacity: 5, overflowCapacity: 0).limit == 5)
    }
}
