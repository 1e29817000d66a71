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
/// Topics are interned (`MQTTTopicTable`): all bookkeeping is one `Slot` per topic id in an array,
/// so a message costs no string hashing or comparison here.
///
/// Confined to the sink's connection thread. Persisted to SQLite (one row per topic, WAL) by
/// `persist()`, which the thread calls about once a second and at shutdown: a daemon killed during
/// an outage publishes, after its restart, what it could not deliver before (unless newer polls
/// replaced it). Entries acknowledged within a second never touch the disk.
final class MQTTOutbox {
    struct Message: Sendable, Equatable {
        var topic: MQTTTopicID
        var payload: [UInt8]
        var retain: Bool
    }

    struct Entry {
        var payload: [UInt8]
        var retain: Bool
        var version: UInt64
    }

    /// Everything the outbox knows about one topic.
    private struct Slot {
        var entry: Entry?
        /// In `ready` (waiting to be sent).
        var queued = false
        /// Sent, its PUBACK not yet received.
        var inflight = false
        /// In `dirty` (changed since the last `persist`).
        var dirty = false
        /// The version in the database row; nil: no row.
        var persisted: UInt64?
    }

    let maxTopics: Int
    let topics: MQTTTopicTable
    private let db: SQLiteDatabase?
    private var slots: [Slot] = []
    /// A copy of `topics`' names, extended when a newer id shows up (the table's lock is not taken per message).
    private var names: [String] = []
    private var entryCount = 0
    private var ready = Deque<MQTTTopicID>()
    private var inflight: [Int32: (topic: MQTTTopicID, version: UInt64)] = [:]
    private var dirty: [MQTTTopicID] = []
    private var nextVersion: UInt64 = 1
    /// Messages for new topics refused because the outbox was full (since start).
    private(set) var dropped = 0

    /// - Parameter path: the database; nil keeps the outbox in memory only (tests of the logic).
    init(path: String?, maxTopics: Int, topics: MQTTTopicTable) throws {
        self.maxTopics = max(1, maxTopics)
        self.topics = topics
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
            let id = topics.intern(topic)
            ensureSlot(id)
            if slots[id.index].entry == nil { entryCount += 1 }
            slots[id.index].entry = Entry(payload: payload, retain: row[2].int != 0, version: nextVersion)
            nextVersion += 1
            slots[id.index].persisted = UInt64(clamping: version)
            markDirty(id)
            enqueue(id)
        }
    }

    var count: Int { entryCount }
    var inflightCount: Int { inflight.count }
    var isEmpty: Bool { entryCount == 0 }
    /// Whether `next()` may have a message (the queue can hold topics now in flight; they are skipped).
    var hasReady: Bool { !ready.isEmpty }

    /// The topic string of an id.
    func name(_ id: MQTTTopicID) -> String {
        if id.index >= names.count { names.append(contentsOf: topics.names(from: names.count)) }
        return id.index < names.count ? names[id.index] : ""
    }

    /// Takes a message: replaces the topic's waiting one, or adds the topic when there is room.
    @discardableResult
    func put(_ message: Message) -> Bool {
        let id = message.topic
        ensureSlot(id)
        if slots[id.index].entry == nil {
            guard entryCount < maxTopics else {
                dropped += 1
                return false
            }
            entryCount += 1
        }
        slots[id.index].entry = Entry(payload: message.payload, retain: message.retain, version: nextVersion)
        nextVersion += 1
        markDirty(id)
        if !slots[id.index].inflight { enqueue(id) }
        return true
    }

    /// The next message to publish, or nil; topics in flight wait for their ack.
    func next() -> (topic: MQTTTopicID, entry: Entry)? {
        while let id = ready.popFirst() {
            slots[id.index].queued = false
            if let entry = slots[id.index].entry, !slots[id.index].inflight { return (id, entry) }
        }
        return nil
    }

    /// The message went out with `mid`.
    func sent(_ topic: MQTTTopicID, version: UInt64, mid: Int32) {
        inflight[mid] = (topic, version)
        slots[topic.index].inflight = true
    }

    /// Publishing failed before it reached the wire: try again later.
    func unsent(_ topic: MQTTTopicID) { enqueue(topic, front: true) }

    /// libmosquitto refuses this message outright (payload too large, invalid topic): it leaves unsent.
    func acknowledgeUnsendable(_ topic: MQTTTopicID) {
        if slots[topic.index].queued {
            slots[topic.index].queued = false
            ready.removeAll { $0 == topic }
        }
        remove(topic)
        dropped += 1
    }

    /// PUBACK: the entry leaves unless a newer version arrived meanwhile (that one is sent next).
    func acknowledged(mid: Int32) {
        guard let (topic, version) = inflight.removeValue(forKey: mid) else { return }
        slots[topic.index].inflight = false
        if slots[topic.index].entry?.version == version {
            remove(topic)
        } else if slots[topic.index].entry != nil {
            enqueue(topic)
        }
    }

    /// The connection dropped: unacknowledged messages are sent again on the next connection.
    func connectionLost() {
        let lost = inflight.values.sorted { $0.version < $1.version }.map(\.topic)
        inflight.removeAll()
        for topic in lost { slots[topic.index].inflight = false }
        for topic in lost.reversed() { enqueue(topic, front: true) }
    }

    /// Writes what changed since the last call in one transaction.
    func persist() throws {
        guard let db else { clearDirty(); return }
        guard !dirty.isEmpty else { return }
        var written: [(MQTTTopicID, UInt64?)] = []
        try db.transaction {
            for topic in dirty {
                let slot = slots[topic.index]
                if let entry = slot.entry {
                    guard slot.persisted != entry.version else { continue }
                    try db.run("INSERT INTO outbox (topic, payload, retain, version) VALUES (?1, ?2, ?3, ?4) ON CONFLICT(topic) DO UPDATE SET payload = ?2, retain = ?3, version = ?4",
                               [.text(name(topic)), .blob(entry.payload), .integer(entry.retain ? 1 : 0), .integer(Int64(clamping: entry.version))])
                    written.append((topic, entry.version))
                } else if slot.persisted != nil {
                    try db.run("DELETE FROM outbox WHERE topic = ?1", [.text(name(topic))])
                    written.append((topic, nil))
                }
            }
        }
        for (topic, version) in written { slots[topic.index].persisted = version }
        clearDirty()  // only after the transaction: a failed one is retried with the next call
    }

    private func clearDirty() {
        for topic in dirty { slots[topic.index].dirty = false }
        dirty.removeAll(keepingCapacity: true)
    }

    private func remove(_ topic: MQTTTopicID) {
        guard slots[topic.index].entry != nil else { return }
        slots[topic.index].entry = nil
        entryCount -= 1
        markDirty(topic)
    }

    private func markDirty(_ topic: MQTTTopicID) {
        guard !slots[topic.index].dirty else { return }
        slots[topic.index].dirty = true
        dirty.append(topic)
    }

    private func ensureSlot(_ topic: MQTTTopicID) {
        if topic.index >= slots.count { slots.append(contentsOf: repeatElement(Slot(), count: topic.index - slots.count + 1)) }
    }

    private func enqueue(_ topic: MQTTTopicID, front: Bool = false) {
        guard !slots[topic.index].queued else { return }
        slots[topic.index].queued = true
        if front { ready.prepend(topic) } else { ready.append(topic) }
    }
}
