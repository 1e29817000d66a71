import Foundation
import HPCore
@testable import Sinks
import Testing
import TestSupport

/// The outbox's rules without a broker: newest message per topic, kept until its own PUBACK, bounded, durable.
@Suite("MQTT outbox", .harnessThreads)
struct MQTTOutboxTests {
    let table = MQTTTopicTable()

    func message(_ topic: String, _ text: String) -> MQTTOutbox.Message { .init(topic: table.intern(topic), payload: Array(text.utf8), retain: true) }

    @Test("an outage of many polls leaves one entry per topic, holding the newest payload")
    func coalesces() throws {
        let outbox = try MQTTOutbox(path: nil, maxTopics: 10, topics: table)
        for poll in 1...100 { outbox.put(message("a/state", "\(poll)")); outbox.put(message("a/t", "\(poll)")) }
        #expect(outbox.count == 2)
        let first = try #require(outbox.next())
        #expect(outbox.name(first.topic) == "a/state" && first.entry.payload == Array("100".utf8))
    }

    @Test("a newer value arriving while the old one is in flight is sent after that ack, and only its own ack removes it")
    func inflightReplacement() throws {
        let outbox = try MQTTOutbox(path: nil, maxTopics: 10, topics: table)
        outbox.put(message("t", "1"))
        let sent = try #require(outbox.next())
        outbox.sent(sent.topic, version: sent.entry.version, mid: 7)
        outbox.put(message("t", "2"))
        #expect(outbox.next() == nil, "not twice in flight")
        outbox.acknowledged(mid: 7)
        let second = try #require(outbox.next())
        #expect(second.entry.payload == Array("2".utf8))
        outbox.sent(second.topic, version: second.entry.version, mid: 8)
        outbox.acknowledged(mid: 8)
        #expect(outbox.isEmpty)
    }

    @Test("a lost connection sends the unacknowledged messages again")
    func connectionLost() throws {
        let outbox = try MQTTOutbox(path: nil, maxTopics: 10, topics: table)
        outbox.put(message("t", "1"))
        let sent = try #require(outbox.next())
        outbox.sent(sent.topic, version: sent.entry.version, mid: 1)
        outbox.connectionLost()
        outbox.acknowledged(mid: 1)  // a late ack of the old connection's mid changes nothing
        #expect(outbox.next().map { outbox.name($0.topic) } == "t")
    }

    @Test("bounded: new topics beyond max_topics are dropped and counted, known topics still update")
    func bounded() throws {
        let outbox = try MQTTOutbox(path: nil, maxTopics: 2, topics: table)
        #expect(outbox.put(message("a", "1")) && outbox.put(message("b", "1")))
        #expect(!outbox.put(message("c", "1")))
        #expect(outbox.put(message("a", "2")))
        #expect(outbox.count == 2 && outbox.dropped == 1)
    }

    @Test("persisted: a reopened outbox holds what was not acknowledged, not what was")
    func durable() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-outbox")
        let path = dir.file("outbox.db")
        do {
            let outbox = try MQTTOutbox(path: path, maxTopics: 10, topics: table)
            outbox.put(message("kept", "new"))
            outbox.put(message("acked", "x"))
            try outbox.persist()
            let kept = try #require(outbox.next())
            let acked = try #require(outbox.next())
            #expect(outbox.name(kept.topic) == "kept" && outbox.name(acked.topic) == "acked")
            outbox.sent(acked.topic, version: acked.entry.version, mid: 1)
            outbox.acknowledged(mid: 1)
            outbox.unsent(kept.topic)
            try outbox.persist()
        }
        // A restarted daemon interns its topics afresh: the rows are found by name, not by the old ids.
        let fresh = MQTTTopicTable()
        _ = fresh.intern("something else first")
        let reopened = try MQTTOutbox(path: path, maxTopics: 10, topics: fresh)
        #expect(reopened.count == 1)
        let entry = try #require(reopened.next())
        #expect(reopened.name(entry.topic) == "kept" && fresh.intern("kept") == entry.topic && entry.entry.payload == Array("new".utf8) && entry.entry.retain)
    }

    @Test("interned topics: one id per string from any producer, so availability from a poll and from a status change coalesce")
    func interning() throws {
        let a = table.intern("hpmanager/default/a/availability")
        #expect(table.intern(String("hpmanager/default/a/availability".reversed().reversed())) == a)
        #expect(table.intern("hpmanager/default/b/availability") != a)
        let outbox = try MQTTOutbox(path: nil, maxTopics: 10, topics: table)
        outbox.put(message("hpmanager/default/a/availability", "online"))
        outbox.put(.init(topic: a, payload: Array("offline".utf8), retain: true))
        #expect(outbox.count == 1)
        let entry = try #require(outbox.next())
        #expect(outbox.name(entry.topic) == "hpmanager/default/a/availability" && entry.entry.payload == Array("offline".utf8))
        // A topic interned after the outbox copied the names is still named.
        let late = table.intern("late/topic")
        outbox.put(.init(topic: late, payload: [1], retain: false))
        let lateEntry = try #require(outbox.next())
        #expect(outbox.name(lateEntry.topic) == "late/topic")
    }

    @Test("persist: a topic acknowledged before the next persist is deleted from the database; only dirty topics are written")
    func persistDeletes() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-outbox")
        let path = dir.file("outbox.db")
        do {
            let outbox = try MQTTOutbox(path: path, maxTopics: 10, topics: table)
            for topic in ["x", "y", "z"] { outbox.put(message(topic, "1")) }
            try outbox.persist()
            for mid: Int32 in 1...2 {
                let sent = try #require(outbox.next())
                outbox.sent(sent.topic, version: sent.entry.version, mid: mid)
                outbox.acknowledged(mid: mid)
            }
            outbox.put(message("z", "2"))
            try outbox.persist()
            try outbox.persist()  // nothing dirty: no change
        }
        let reopened = try MQTTOutbox(path: path, maxTopics: 10, topics: MQTTTopicTable())
        #expect(reopened.count == 1)
        let entry = try #require(reopened.next())
        #expect(reopened.name(entry.topic) == "z" && entry.entry.payload == Array("2".utf8))
    }

    @Test("topics: site default, reserved register names, set topics parsed back")
    func topics() {
        let t = MQTTTopics(prefix: "hpmanager", site: SiteSettings())
        #expect(t.status == "hpmanager/default/status" && t.state("a") == "hpmanager/default/a/state")
        #expect(t.register("a", "state") == nil && t.register("a", "x/y+#") == "hpmanager/default/a/x_y__")
        let parsed = t.parseSet("hpmanager/default/a/temp/set")
        #expect(parsed?.id == "a" && parsed?.register == "temp")
        #expect(t.parseSet("hpmanager/default/a/temp") == nil && t.parseSet("other/default/a/temp/set") == nil)
    }
}
