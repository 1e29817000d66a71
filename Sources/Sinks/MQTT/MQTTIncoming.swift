/// A message the broker delivered on a subscribed (`…/set`) topic.
struct MQTTIncoming: Sendable {
    var topic: String
    var payload: [UInt8]
    /// Longer than `max_set_payload`: refused without its bytes.
    var truncated: Bool
}
