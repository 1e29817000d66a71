import Foundation
import MQTTKit
import Testing
import TestSupport

/// A burst of publishes goes out corked: in full TCP segments, and all of it as soon as the burst
/// ends (uncorking pushes the rest; no wait for an ACK as Nagle's algorithm would, no 200 ms cork).
@Suite("libmosquitto publishes corked", .harnessThreads, .serialized)
struct MosquittoCorkTests {
    /// `segs_out` and `bytes_sent` of the client's connection to `port` (`ss -ti`), or nil.
    static func sent(toPort port: Int) throws -> (segments: Int, bytes: Int)? {
        let (status, output) = try DeployFiles.run("/usr/bin/ss", ["-tinH", "state", "established", "( dport = :\(port) )"])
        func field(_ name: String) -> Int? {
            output.range(of: name + #":\d+"#, options: .regularExpression).flatMap { Int(output[$0].dropFirst(name.count + 1)) }
        }
        guard status == 0, let segments = field("segs_out"), let bytes = field("bytes_sent") else { return nil }
        return (segments, bytes)
    }

    /// A client of `broker` whose CONNACK arrived (within 10 s).
    static func connectedClient(_ id: String, broker: MosquittoServer) throws -> MosquittoClient {
        let client = try MosquittoClient(MosquittoClient.Options(clientID: id))
        try client.connect(host: "127.0.0.1", port: broker.port, keepalive: 5)
        let deadline = Date().addingTimeInterval(10)
        var connected = false
        while !connected && Date() < deadline { connected = client.loop(timeoutMs: 100).events.contains(.connected(code: 0)) }
        try #require(connected)
        return client
    }

    @Test("200 publishes in one corked burst are on the wire when it returns, in a handful of segments")
    func corkedBurst() throws {
        let broker = try MosquittoServer()
        let client = try Self.connectedClient("cork", broker: broker)
        let before = try #require(try Self.sent(toPort: broker.port))
        let topics = (0..<200).map { "hpm/cork/\($0)" }
        let payload = Array("21.5".utf8)
        // QoS 0 PUBLISH: fixed header (2 bytes below 128), topic length (2), topic, payload.
        let bytes = topics.reduce(0) { $0 + 4 + $1.utf8.count + payload.count }
        try client.corked {
            for topic in topics { try client.publish(topic: topic, payload: payload, qos: 0, retain: false) }
        }
        let after = try #require(try Self.sent(toPort: broker.port))
        #expect(after.bytes - before.bytes >= bytes, "every message sent when the burst returns: \(after.bytes - before.bytes) of \(bytes) bytes")
        #expect(after.segments - before.segments <= 5, "\(after.segments - before.segments) segments for 200 messages")
    }

    @Test("the loop never reads libmosquitto's wake-up pair, and 2,000 QoS 1 publishes past its full buffer neither block nor fail; every PUBACK arrives")
    func wakeUpPairFillsHarmlessly() throws {
        let broker = try MosquittoServer()
        let client = try Self.connectedClient("pair", broker: broker)
        let deadline = Date().addingTimeInterval(60)
        // Each publish writes a byte into the pair; a few hundred fill it (each write is its own buffer
        // entry). In windows of 100 in flight, as the sink publishes.
        var acknowledged = 0
        for window in 0..<20 {
            var mids = Set<Int32>()
            try client.corked {
                for i in 0..<100 {
                    mids.insert(try client.publish(topic: "hpm/pair/\(i)", payload: Array("\(window)".utf8), qos: 1, retain: false))
                }
            }
            while !mids.isEmpty && Date() < deadline {
                let (events, error) = client.loop(timeoutMs: 50)
                try #require(error == nil, "\(String(describing: error))")
                for case .published(let mid) in events where mids.remove(mid) != nil { acknowledged += 1 }
            }
        }
        #expect(acknowledged == 2_000)
    }
}
