import Foundation
import MQTTKit
import Testing
import TestSupport

/// A daemon with over a thousand Modbus connections hands a new MQTT client descriptors numbered
/// beyond `select()`'s limit (1024), which `mosquitto_loop` refuses; the client must work anyway.
@Suite("libmosquitto with descriptors beyond select()'s limit", .harnessThreads, .serialized)
struct MosquittoHighDescriptorTests {
    /// Occupies descriptors until the next free one is at least `above`; returns them for closing.
    static func occupyDescriptors(above: Int32) throws -> [Int32] {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < rlim_t(above + 256) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(above + 256))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        var held: [Int32] = []
        while true {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { break }
            held.append(fd)
            if fd >= above { break }
        }
        return held
    }

    @Test("connect, publish and acknowledge with the client's descriptors numbered above 1024, over TCP and TLS", arguments: [false, true])
    func highDescriptors(tls: Bool) throws {
        let pki = try TestCertificates()
        let broker = try tls ? MosquittoServer(tls: pki) : MosquittoServer()
        // Held only while the client makes its descriptors (its wake-up pair, its socket), so that
        // other tests in this process meet the crowded table for milliseconds at most.
        let held = try Self.occupyDescriptors(above: 1100)
        var released = false
        func release() { if !released { for fd in held { close(fd) }; released = true } }
        defer { release() }
        try #require((held.last ?? 0) >= 1100, "could not occupy descriptors up to 1100 (limit)")
        var options = MosquittoClient.Options(clientID: "high-fd-\(tls)")
        if tls { options.tls = MosquittoClient.TLS(caFile: pki.caFile) }
        let client = try MosquittoClient(options)
        try client.connect(host: "127.0.0.1", port: tls ? broker.tlsPort : broker.port, keepalive: 5)
        release()
        var events: [MosquittoEvent] = []
        var failure: MosquittoError?
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && !events.contains(.connected(code: 0)) && failure == nil {
            let round = client.loop(timeoutMs: 100)
            events += round.events
            failure = round.error
        }
        #expect(failure == nil, "\(failure.map { "\($0)" } ?? "")")
        try #require(events.contains(.connected(code: 0)), "connected: \(events)")
        let mid = try client.publish(topic: "hpm/high-fd", payload: Array("1".utf8), qos: 1, retain: true)
        var acknowledged = false
        while Date() < deadline.addingTimeInterval(10) && !acknowledged {
            acknowledged = client.loop(timeoutMs: 100).events.contains(.published(mid: mid))
        }
        #expect(acknowledged, "the broker acknowledged the publish")
        #expect(try broker.retained("hpm/high-fd")["hpm/high-fd"] == "1")
    }
}
