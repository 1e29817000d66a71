import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

/// How the remote-write sink answers a receiver's status codes (a scripted HTTP endpoint).
@Suite("remote write: retries and dead letters", .harnessThreads, .serialized)
struct RemoteWriteRetryTests {
    static func sink(_ server: RecordingHTTPServer, _ dir: TemporaryDirectory) -> RemoteWriteSink {
        var settings = RemoteWriteSettings()
        settings.name = "test"
        settings.url = "http://127.0.0.1:\(server.port)/api/v1/write"
        settings.timeout = 2
        settings.queue.batchSendDeadline = 0.05
        settings.queue.maxSamplesPerSend = 8
        settings.queue.minBackoff = 0.05
        settings.queue.maxBackoff = 0.2
        settings.headers = ["X-Scope-OrgID": "tenant-1"]
        return RemoteWriteSink(settings: settings, spoolPath: dir.file("rw.db"), site: SiteSettings(id: "s1"), version: "test", logger: Logger(label: "t"))
    }

    static func report(_ i: Int) -> PollReport {
        PollReport(device: DeviceLabels(id: "a", name: "a", location: "", model: "m", manufacturer: "x"), timestamp: 1_700_000_000 + Double(i),
                   samples: [Sample(register: 0, name: "t", value: .double(Double(i)))], status: DeviceStatus(state: .polling, up: true))
    }

    @Test("a full batch is sent at once, not at batch_send_deadline: a sustained rate above capacity ÷ deadline loses nothing")
    func fullBatchesGoEarly() async throws {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 204, directory: dir)
        var settings = RemoteWriteSettings()
        settings.name = "test"
        settings.url = "http://127.0.0.1:\(server.port)/api/v1/write"
        settings.timeout = 2
        settings.queue.capacity = 200
        settings.queue.maxSamplesPerSend = 20
        settings.queue.batchSendDeadline = 30  // the deadline alone would let only 200 samples per 30 s through
        let sink = RemoteWriteSink(settings: settings, spoolPath: dir.file("rw.db"), site: SiteSettings(id: "s1"), version: "test", logger: Logger(label: "t"))
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        // 300 samples/s for 2 s: three times what the inbox holds (the sender has ~0.6 s of slack per full inbox).
        for chunk in 0..<20 {
            for i in 0..<10 { sink.publish(Self.report(chunk * 10 + i)) }
            try await Task.sleep(for: .milliseconds(100))
        }
        let sent = try? await eventually("every sample sent long before the deadline", timeout: 10) { sink.snapshot.sent == 600 ? true : nil }
        #expect(sent == true, "sent \(sink.snapshot.sent), dropped \(sink.snapshot.inboxDropped), failures \(sink.snapshot.sendFailures) \(sink.snapshot.lastError), spooled \(sink.spooledSamples)")
        #expect(sink.snapshot.inboxDropped == 0)
    }

    @Test("429/503 (Retry-After honoured up to max_backoff): spooled and re-sent until accepted, nothing lost, nothing dead-lettered")
    func retries() async throws {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 503, retryAfter: "99999", directory: dir)
        let sink = Self.sink(server, dir)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        for i in 0..<5 { sink.publish(Self.report(i)) }  // 3 samples each
        _ = try await eventually("spooled", timeout: 10) { sink.spooledSamples == 15 ? true : nil }
        try server.setStatus(429)
        let before = sink.snapshot.sendFailures
        _ = try await eventually("429 is retried too", timeout: 10) { sink.snapshot.sendFailures >= before + 2 ? true : nil }
        try server.setStatus(204)
        _ = try await eventually("drained", timeout: 10) { sink.snapshot.sent == 15 && sink.spooledSamples == 0 ? true : nil }
        #expect(sink.snapshot.rejected == 0 && sink.snapshot.deadLetters == 0)
        let request = try #require(server.requests().last)
        let headers = request["headers"] as? [String: String] ?? [:]
        #expect(headers["Content-Encoding"] == "snappy" && headers["Content-Type"] == "application/x-protobuf")
        #expect(headers["X-Prometheus-Remote-Write-Version"] == "0.1.0" && headers["X-Scope-OrgID"] == "tenant-1")
    }

    @Test("another 4xx: the refused samples become dead letters, not retried forever; later samples still flow")
    func deadLetters() async throws {
        let dir = try TemporaryDirectory()
        let server = try RecordingHTTPServer(status: 400, directory: dir)
        let sink = Self.sink(server, dir)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        for i in 0..<2 { sink.publish(Self.report(i)) }  // 6 samples: one request, bisected to single samples
        _ = try await eventually("dead-lettered", timeout: 10) { sink.snapshot.deadLetters == 6 ? true : nil }
        #expect(sink.snapshot.rejected == 6 && sink.snapshot.sent == 0 && sink.spooledSamples == 0)
        let requests = server.requests().count
        #expect(requests == 11, "6 samples isolated in 2·6−1 requests, got \(requests)")
        try server.setStatus(200)
        sink.publish(Self.report(3))
        _ = try await eventually("sent", timeout: 10) { sink.snapshot.sent == 3 ? true : nil }
    }
}
