import HPCore
import Synchronization

/// One device's per-register topics and what was last posted to each, so a poll posts only the
/// registers whose value changed (`register_topics: changed`) and never rebuilds (or re-interns) a topic string.
///
/// Posted values are state on retained topics: the broker keeps each one's last value for every
/// subscriber, so an unchanged value need not be sent again. After the broker connection is
/// (re)established (`generation` changes) the next poll posts every register once more, so a broker
/// that lost its retained messages (restarted without persistence) is complete again within one poll.
final class MQTTRegisterTopics: Sendable {
    private struct Posted {
        var name: String
        /// Nil for a name the topic layout reserves (`state`, `availability`): never posted.
        var topic: MQTTTopicID?
        var value: SampleValue
        var label: String?
    }

    private struct State {
        /// By position in the poll's samples (stable while the device's model is unchanged).
        var posted: [Posted] = []
        var generation = -1
    }

    let id: String
    private let state = Mutex(State())

    init(id: String) { self.id = id }

    /// The messages for a successful poll's register topics: every register when `all` or when
    /// `generation` differs from the last poll's, otherwise those whose value or label changed.
    func messages(_ samples: [Sample], all: Bool, generation: Int, topics: MQTTTopics, table: MQTTTopicTable, retain: Bool) -> [MQTTOutbox.Message] {
        state.withLock { s in
            let everything = all || s.generation != generation
            s.generation = generation
            var out: [MQTTOutbox.Message] = []
            out.reserveCapacity(everything ? samples.count : 8)
            if s.posted.count > samples.count { s.posted.removeSubrange(samples.count...) }
            for (i, sample) in samples.enumerated() {
                if i < s.posted.count, s.posted[i].name == sample.name {
                    if !everything && s.posted[i].value == sample.value && s.posted[i].label == sample.label { continue }
                    s.posted[i].value = sample.value
                    s.posted[i].label = sample.label
                } else {
                    let entry = Posted(name: sample.name, topic: topics.register(id, sample.name).map(table.intern), value: sample.value, label: sample.label)
                    if i < s.posted.count { s.posted[i] = entry } else { s.posted.append(entry) }
                }
                guard let topic = s.posted[i].topic else { continue }
                out.append(.init(topic: topic, payload: MQTTPayload.value(sample), retain: retain))
            }
            return out
        }
    }
}
