/// What libmosquitto's callbacks reported during one `MosquittoClient.loop`.
public enum MosquittoEvent: Sendable, Equatable {
    /// CONNACK: `code` 0 is accepted, otherwise the broker's refusal (MQTT 3.1.1 codes 1-5, v5 reason codes).
    case connected(code: Int32)
    /// The connection ended; `code` 0 means we asked for it.
    case disconnected(code: Int32)
    /// The broker acknowledged the QoS 1 publish with this message id (PUBACK).
    case published(mid: Int32)
    /// A message on a subscribed topic. `payload` is at most the bound given to the client; longer
    /// payloads arrive with `truncated` set and no bytes.
    case message(topic: String, payload: [UInt8], truncated: Bool)
}
