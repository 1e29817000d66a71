import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

/// Several remote-write requests in flight (`queue.max_shards`), each series through one shard.
@Suite("remote write: shards", .harnessThreads, .serialized)
struct RemoteWriteShardTests {
    /// `registers` numeric registers: `registers + 2` samples per poll (with `heatpump_up` and the poll duration).
    static func report(device: Int, poll: Int, registers: Int = 4) -> PollReport {
        PollReport(device: DeviceLabels(id: "hp-\(device)", name: "hp \(device)", location: "", model: "m", manufacturer: "x"),
                   timestamp: 1_700_000_000 + Double(poll), samples: (0..<registers).map { Sample(register: $0, name: "r\($0)", value: .double(Double(poll))) },
                   status: DeviceStatus(state: .polling, up: true, pollDuration: 0.01))
    }

    /// Publishes 13 polls of 6 samples every 100 ms for `ticks` ticks into a sink whose receiver
    /// answers after `answerDelay`, then waits for everything to be sent; returns the sink.
    static func steadyStream(answerDelay: Double, capacity: Int, shards: Int?, ticks: Int) async throws -> (sink: RemoteWriteSink, total: Int, sent: Bool) {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 204, answerDelay: answerDelay, directory: dir)
        var settings = RemoteWriteSettings()
        settings.name = "test"
        settings.url = "http://127.0.0.1:\(server.port)/api/v1/write"
        settings.timeout = 5
        settings.queue.capacity = capacity
        settings.queue.maxSamplesPerSend = 100
        if let shards { settings.queue.maxShards = shards }
        settings.queue.batchSendDeadline = 0.05
        let sink = RemoteWriteSink(settings: settings, spoolPath: dir.file("rw.db"), version: "test", logger: Logger(label: "t"))
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        var published = 0
        for tick in 0..<ticks {
            for i in 0..<13 {
                let n = tick * 13 + i
                sink.publish(Self.report(device: n % 100, poll: n / 100))
                published += 6
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let total = published
        let sent = try? await eventually("every sample sent", timeout: 10) { sink.snapshot.sent == total ? true : nil }
        // Stopped before the receiver and the spool's directory go.
        task.cancel()
        _ = try? await task.value
        withExtendedLifetime(server) {}
        return (sink, total, sent == true)
    }

    @Test("a slow receiver (0.4 s per answer): the default shards keep 800 samples/s flowing without a drop (one request at a time carries 250/s)")
    func slowReceiverDoesNotDrop() async throws {
        // 78 samples every 100 ms for 2 s, spread over 100 devices' series.
        let (sink, total, sent) = try await Self.steadyStream(answerDelay: 0.4, capacity: 800, shards: nil, ticks: 20)
        #expect(sent, "sent \(sink.snapshot.sent) of \(total), dropped \(sink.snapshot.inboxDropped), spooled \(sink.spooledSamples), failures \(sink.snapshot.sendFailures) \(sink.snapshot.lastError)")
        #expect(sink.snapshot.inboxDropped == 0)
        #expect(sink.snapshot.sendFailures == 0)
        // The shards keep up and the inbox never holds twice its capacity: nothing needed the spool.
        #expect(sink.snapshot.spoolAppended == 0, "\(sink.snapshot.spoolAppended) samples went through the spool")
    }

    @Test("a round that ends with a full batch waiting is followed by the next at once: one shard at 80 % of what a 0.1 s receiver takes drops nothing with an inbox of 300")
    func noPauseWhenBehind() async throws {
        // 78 samples every 100 ms for 3 s: ~1,000/s is what 100 per 0.1 s answer carries.
        let (sink, total, sent) = try await Self.steadyStream(answerDelay: 0.1, capacity: 300, shards: 1, ticks: 30)
        #expect(sent, "sent \(sink.snapshot.sent) of \(total), dropped \(sink.snapshot.inboxDropped)")
        #expect(sink.snapshot.inboxDropped == 0)
    }

    @Test("a burst of 30 polls per series sent through 4 shards in requests of 25: Prometheus (which refuses out-of-order samples) takes every one")
    func shardsKeepEachSeriesInOrder() async throws {
        let prometheus = try PrometheusServer(configuration: "global:\n  scrape_interval: 1m\n", arguments: ["--web.enable-remote-write-receiver"])
        let dir = try TemporaryDirectory()
        var settings = RemoteWriteSettings()
        settings.name = "test"
        settings.url = "\(prometheus.url)/api/v1/write"
        settings.timeout = 5
        settings.queue.capacity = 10_000
        settings.queue.maxSamplesPerSend = 25
        settings.queue.maxShards = 4
        settings.queue.batchSendDeadline = 0.2
        let sink = RemoteWriteSink(settings: settings, spoolPath: dir.file("rw.db"), version: "test", logger: Logger(label: "t"))
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        // Prometheus takes samples up to ~1 h old into its head block: stamp the burst within the last minutes.
        let start = (Date().timeIntervalSince1970 - 300).rounded()
        for poll in 0..<30 {
            for device in 0..<20 {
                var report = Self.report(device: device, poll: poll, registers: 2)
                report.timestamp = start + Double(poll)
                sink.publish(report)
            }
        }
        let total = 30 * 20 * 4
        let sent = try? await eventually("every sample sent", timeout: 15) { sink.snapshot.sent + sink.snapshot.rejected == total ? true : nil }
        #expect(sent == true, "sent \(sink.snapshot.sent), rejected \(sink.snapshot.rejected) of \(total), \(sink.snapshot.lastError)")
        #expect(sink.snapshot.rejected == 0 && sink.snapshot.deadLetters == 0, "out-of-order samples were refused: \(sink.snapshot.rejected)")
        for device in [0, 7, 19] {
            let series = try prometheus.rawSamples("heatpump_r1{heatpump_id=\"hp-\(device)\"}")
            let times = series.values.flatMap { $0 }.map(\.0).sorted()
            #expect(times == (0..<30).map { start + Double($0) }, "hp-\(device): \(times.count) samples")
        }
    }

    @Test("the round's split: every item once, each key in one shard in its order, one shard while the round holds one batch",
          arguments: [(items: 90, batch: 100, shards: 4), (items: 101, batch: 100, shards: 4), (items: 5_000, batch: 700, shards: 3), (items: 40, batch: 3, shards: 8)])
    func split(items: Int, batch: Int, shards: Int) {
        let samples = (0..<items).map { i in
            RemoteWriteSample(name: "m", labels: [SeriesLabel(name: "heatpump_id", value: "hp-\(i % 17)")], value: Double(i), timestamp: Int64(i))
        }
        let lanes = SpooledSender<RemoteWriteSink>.shard(samples, batchSize: batch, shards: shards)
        if items <= batch { #expect(lanes.count == 1) } else { #expect(lanes.count > 1 && lanes.count <= shards) }
        #expect(lanes.allSatisfy { $0.allSatisfy { $0.count <= batch } })
        let flat = lanes.flatMap { $0.flatMap { $0 } }
        #expect(flat.count == items && Set(flat.map(\.timestamp)).count == items)
        var shardOf: [[SeriesLabel]: Int] = [:]
        for (shard, lane) in lanes.enumerated() {
            let inLane = lane.flatMap { $0 }
            for sample in inLane {
                #expect(shardOf.updateValue(shard, forKey: sample.labels) ?? shard == shard, "a series in two shards")
            }
            for key in Set(inLane.map(\.labels)) {
                let times = inLane.filter { $0.labels == key }.map(\.timestamp)
                #expect(times == times.sorted(), "a series out of order within its shard")
            }
        }
    }
}
