/// `mqtt:` — the MQTT sink (retained per-device state, availability, Home Assistant discovery,
/// optional writes through `…/set`). Absent section: no MQTT.
public struct MQTTSettings: Sendable, Hashable {
    /// `register_topics:` — which polls publish the per-register topics.
    public enum RegisterTopics: String, Sendable, Hashable, CaseIterable {
        /// A register whose value changed since it was last published, and every register once after each broker connection.
        case changed
        /// Every register on every poll.
        case always
        /// None: the state JSON only.
        case off
    }

    public var enabled: Bool = false
    /// As written (`mqtt://host:1883`, `mqtts://host:8883`); safe to log (no user info allowed in it).
    public var url: String = ""
    public var host: String = ""
    public var port: Int = 1883
    /// `mqtts://`: TLS, verified against `ca_file` or the system trust store.
    public var tls: Bool = false
    /// Empty: `hpmanager-<site id>` (or `hpmanager-<host name>` without a site).
    public var clientID: String = ""
    public var username: String = ""
    /// File holding the password (never the password itself in collector.yml).
    public var passwordFile: String = ""
    public var topicPrefix: String = "hpmanager"
    public var discovery: Bool = false
    public var discoveryPrefix: String = "homeassistant"
    public var allowWrites: Bool = false
    public var qos: Int = 1
    public var retain: Bool = true
    public var registerTopics: RegisterTopics = .changed
    /// 4 = MQTT 3.1.1 (`protocol: "3.1.1"`, the default), 5 = MQTT 5.
    public var protocolVersion: Int = 4
    public var keepalive: Int = 60
    public var caFile: String = ""
    public var certFile: String = ""
    public var keyFile: String = ""
    public var insecureSkipVerify: Bool = false
    /// First and longest wait between connection attempts, seconds (doubling, jittered).
    public var reconnectInterval: Double = 1
    public var reconnectIntervalMax: Double = 60
    /// QoS 1 publishes awaiting PUBACK at once.
    public var maxInflight: Int = 100
    /// Outbox database; default `mqtt-outbox.db` beside `sqlite.path`.
    public var outboxPath: String = ""
    /// Topics the outbox holds at most (it keeps the newest message per topic); new topics beyond are dropped and counted.
    public var outboxMaxTopics: Int = 100_000
    /// Longest `…/set` payload accepted, bytes; longer ones are refused unread.
    public var maxSetPayload: Int = 256

    public init() {}

    /// The port a scheme implies when the URL names none.
    public static func defaultPort(tls: Bool) -> Int { tls ? 8883 : 1883 }
}
