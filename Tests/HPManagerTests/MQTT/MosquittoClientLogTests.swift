import Foundation
import MQTTKit
import Testing
import TestSupport

/// libmosquitto formats every line it could log while a log callback is set (one `vsnprintf` and
/// `malloc` per packet), so the client keeps its log only while the connection is not up.
@Suite("libmosquitto log capture only while disconnected", .harnessThreads)
struct MosquittoClientLogTests {
    /// Runs the client's loop until `done` says yes, or fails after 10 s.
    func loop(_ client: MosquittoClient, until done: ([MosquittoEvent], MosquittoError?) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let (events, error) = client.loop(timeoutMs: 100)
            if done(events, error) { return true }
        }
        return false
    }

    @Test("connected: no log callback; connection lost: captured again, so the next connect's failure has its reason")
    func logOnlyWhileDown() throws {
        let broker = try MosquittoServer()
        let client = try MosquittoClient(MosquittoClient.Options(clientID: "log-capture"))
        #expect(client.capturesLog, "before connecting")
        try client.connect(host: "127.0.0.1", port: broker.port, keepalive: 5)
        #expect(loop(client) { events, _ in events.contains(.connected(code: 0)) }, "connected")
        #expect(!client.capturesLog, "connected: libmosquitto formats nothing for us")
        // Published messages go out while nothing is captured.
        try client.publish(topic: "t/x", payload: Array("1".utf8), qos: 1, retain: false)
        #expect(loop(client) { events, _ in events.contains { if case .published = $0 { true } else { false } } }, "acknowledged")
        broker.stop()
        #expect(loop(client) { events, error in error != nil || events.contains { if case .disconnected = $0 { true } else { false } } }, "loss noticed")
        #expect(client.capturesLog, "down: the log is captured again")
    }
}
