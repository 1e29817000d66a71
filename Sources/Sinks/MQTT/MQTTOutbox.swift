import DequeModule
import Foundation
import SQLiteKit

/// The MQTT sink's durable outbox: the newest message per topic, until the broker acknowledged it.
///
/// Everything the sink publishes is state (retained: the latest value is all a subscriber gets), so
/// the outbox coalesces per topic instead of queueing every poll: a broker outage of any length
/// costs one entry per topic, and after it the broker receives each topic's latest message once.
/// An entry leaves when the PUBACK for its current version arrives; a newer version replacing one in
/// flight is sent after that ack. Bounded by `maxTopics` (new topics beyond it are dropped, counted).
///
/// Confined to the sink's connection thread. Persisted to SQLite (one row per topic, WAL) by
/// `persist()`, which the thread calls about once a second and at shutdown: a daemon killed during
/// an outage publishes, after its restart, what it could not deliver before (unless newer polls
/// replaced it). Entries acknowledged within a second never touch the disk.
final class MQTTOutbox {
    struct Message: Sendable, Equatable {
        var topic: String
        var payload: [UInt8]
        var retain: Bool
    }

    struct Entry {
        var payload: [UInt8]
        var retain: Bool
        var version: UInt64
    }

    let maxTopics: Int
    private let db: SQLiteDatabase?
    private var entries: [String: Entry] = [:]
    private var ready = Deque<String>()
    private var queued: Set<String> = []
    private var inflight: [Int32: (topic: String, version: UInt64)] = [:]
    private var inflightTopics: Set<String> = []
    private var persisted: [String: UInt64] = [:]
    private var dirty: Set<String> = []
    private var nextVersion: UInt64 = 1
    /// Messages for new topics refused because the outbox was full (since start).
    private(set) var dropped = 0

    /// - Parameter path: the database; nil keeps the outbox in memory only (tests of the logic).
    init(path: String?, maxTopics: Int) throws {
        self.maxTopics = max(1, maxTopics)
        guard let path else { db = nil; return }
        let db = try SQLiteDatabase(path: path)
        self.db = db
        try db.migrate(["CREATE TABLE outbox (topic TEXT PRIMARY KEY, payload BLOB NOT NULL, retain INTEGER NOT NULL, version INTEGER NOT NULL);"])
        for row in try db.query("SELECT topic, payload, retain, version FROM outbox ORDER BY version") {
            guard let topic = row[0].string, let version = row[3].int else { continue }
            let payload: [UInt8]
            switch row[1] {
            case .blob(let bytes): payload = bytes
            case .text(let text): payload = Array(text.utf8)
            default: payload = []
            }
            let entry = Entry(payload: payload, retain: row[2].int != 0, version: nextVersion)
            nextVersion += 1
            entries[topic] = entry
            persisted[topic] = UInt64(clamping: version)
            dirty.insert(topic)
            enqueue(topic)
        }
    }

    var count: Int { entries.count }
    var inflightCount: Int { inflight.count }
    var isEmpty: Bool { entries.isEmpty }

    /// Takes a message: replaces the topic's waiting one, or adds the topic when there is room.
    @discardableResult
    func put(_ message: Message) -> Bool {
        if entries[message.topic] == nil && entries.count >= maxTopics {
            dropped += 1
            return false
        }
        entries[message.topic] = Entry(payload: message.payload, retain: message.retain, version: nextVersion)
        nextVersion += 1
        dirty.insert(message.topic)
        if !inflightTopics.contains(message.topic) { enqueue(message.topic) }
        return true
    }

    /// The next message to publish, or nil; topics in flight wait for their ack.
    func next() -> (topic: String, entry: Entry)? {
        while let topic = ready.popFirst() {
            queued.remove(topic)
            if let entry = entries[topic], !inflightTopics.contains(topic) { return (topic, entry) }
        }
        return nil
    }

    /// The message went out with `mid`.
    func sent(_ topic: String, version: UInt64, mid: Int32) {
        inflight[mid] = (topic, version)
        inflightTopics.insert(topic)
    }

    /// Publishing failed before it reached the wire: try again later.
    func unsent(_ topic: String) { enqueue(topic, front: true) }

    /// libmosquitto refuses this message outright (payload too large, invalid topic): it leaves unsent.
    func acknowledgeUnsendable(_ topic: String) {
        queued.remove(topic)
        ready.removeAll { $0 == topic }
        if entries.removeValue(forKey: topic) != nil { dirty.insert(topic) }
        dropped += 1
    }

    /// PUBACK: the entry leaves unless a newer version arrived meanwhile (that one is sent next).
    func acknowledged(mid: Int32) {
        guard let (topic, version) = inflight.removeValue(forKey: mid) else { return }
        inflightTopics.remove(topic)
        if entries[topic]?.version == version {
            entries.removeValue(forKey: topic)
            dirty.insert(topic)
        } else if entries[topic] != nil {
            enqueue(topic)
        }
    }

    /// The connection dropped: unacknowledged messages are sent again on the next connection.
    func connectionLost() {
        let topics = inflight.values.sorted { $0.version < $1.version }.map(\.topic)
        inflight.removeAll()
        inflightTopics.removeAll()
        for topic in topics.reversed() { enqueue(topic, front: true) }
    }

    /// Writes what changed since the last call in one transaction.
    func persist() throws {
        guard let db, !dirty.isEmpty else { dirty.removeAll(); return }
        let changed = dirty
        try db.transaction {
            for topic in changed {
                if let entry = entries[topic] {
                    guard persisted[topic] != entry.version else { continue }
                    try db.run("INSERT INTO outbox (topic, payload, retain, version) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(topic) DO UPDATE SET payload = ?2, retain = ?3, version = ?4",
                               [.text(topic), .blob(entry.payload), .integer(entry.retain ? 1 : 0), .integer(Int64(clamping: entry.version))])
                } else if persisted[topic] != nil {
                    try db.run("DELETE FROM outbox WHERE topic = ?1", [.text(topic)])
                }
            }
        }
        for topic in changed {
            if let entry = entries[topic] { persisted[topic] = entry.version } else { persisted.removeValue(forKey: topic) }
        }
        dirty.removeAll()
    }

    private func enqueue(_ topic: String, front: Bool = false) {
        guard queued.insert(topic).inserted else { return }
        if front { ready.prepend(topic) } else { ready.append(topic) }
    }
}
