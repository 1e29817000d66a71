import HPCore
import Testing

/// `mqtt:` in collector.yml: defaults, URL forms and located errors.
@Suite("mqtt settings", .harnessThreads)
struct MQTTSettingsTests {
    @Test("defaults: QoS 1, retained, prefix hpmanager, discovery and writes off, MQTT 3.1.1; port from the scheme")
    func defaults() throws {
        let c = try SiteSettingsTests.load("mqtt:\n  url: mqtt://broker.lan\n")
        #expect(c.mqtt.enabled && c.mqtt.host == "broker.lan" && c.mqtt.port == 1883 && !c.mqtt.tls)
        #expect(c.mqtt.qos == 1 && c.mqtt.retain && c.mqtt.topicPrefix == "hpmanager" && c.mqtt.discoveryPrefix == "homeassistant")
        #expect(!c.mqtt.discovery && !c.mqtt.allowWrites && c.mqtt.protocolVersion == 4)
        #expect(c.mqtt.registerTopics == .changed)
        for mode in MQTTSettings.RegisterTopics.allCases {
            #expect(try SiteSettingsTests.load("mqtt:\n  url: mqtt://b\n  register_topics: \(mode.rawValue)\n").mqtt.registerTopics == mode)
        }
        let tls = try SiteSettingsTests.load("mqtt:\n  url: mqtts://[::1]\n  protocol: \"5\"\n  ca_file: /etc/ca.pem\n")
        #expect(tls.mqtt.tls && tls.mqtt.host == "::1" && tls.mqtt.port == 8883 && tls.mqtt.protocolVersion == 5)
        let full = try SiteSettingsTests.load("""
        mqtt: {url: "mqtt://10.0.0.5:11883", client_id: site-a, username: hpm, password_file: /etc/hpm/mqtt.pass, topic_prefix: plant/hp,
               discovery: true, discovery_prefix: ha, allow_writes: true, qos: 0, retain: false}
        """)
        #expect(full.mqtt.port == 11883 && full.mqtt.clientID == "site-a" && full.mqtt.username == "hpm" && full.mqtt.passwordFile == "/etc/hpm/mqtt.pass")
        #expect(full.mqtt.topicPrefix == "plant/hp" && full.mqtt.discovery && full.mqtt.discoveryPrefix == "ha" && full.mqtt.allowWrites)
        #expect(full.mqtt.qos == 0 && !full.mqtt.retain)
        #expect(!(try SiteSettingsTests.load("").mqtt.enabled), "no section: no MQTT")
    }

    @Test("protocol written as YAML numbers or text: 5, 5.0, \"5\" are MQTT 5; 3.1.1, \"3.1.1\", 4 are MQTT 3.1.1", arguments: [
        ("5", 5), ("5.0", 5), ("\"5\"", 5), ("3.1.1", 4), ("\"3.1.1\"", 4), ("4", 4),
    ])
    func protocolForms(_ written: String, _ version: Int) throws {
        let c = try SiteSettingsTests.load("mqtt:\n  url: mqtt://b\n  protocol: \(written)\n")
        #expect(c.mqtt.protocolVersion == version)
    }

    @Test("mqtts:// with ca_file, client certificate and key, insecure_skip_verify off by default")
    func tlsKeys() throws {
        let c = try SiteSettingsTests.load("""
        mqtt:
          url: mqtts://broker.example:8884
          ca_file: /etc/hpmanager/ca.pem
          cert_file: /etc/hpmanager/site.pem
          key_file: /etc/hpmanager/site.key
        """)
        #expect(c.mqtt.tls && c.mqtt.port == 8884 && c.mqtt.caFile == "/etc/hpmanager/ca.pem")
        #expect(c.mqtt.certFile == "/etc/hpmanager/site.pem" && c.mqtt.keyFile == "/etc/hpmanager/site.key" && !c.mqtt.insecureSkipVerify)
        let insecure = try SiteSettingsTests.load("mqtt:\n  url: mqtts://b\n  insecure_skip_verify: true\n")
        #expect(insecure.mqtt.insecureSkipVerify && insecure.mqtt.caFile.isEmpty)
    }

    @Test("invalid mqtt entries are errors at their line", arguments: [
        ("mqtt:\n  client_id: x\n", 2, "url"),
        ("mqtt:\n  url: http://broker\n", 2, "url must be mqtt://"),
        ("mqtt:\n  url: mqtt://broker:0\n", 2, "port 1-65535"),
        ("mqtt:\n  url: mqtt://broker:65536\n", 2, "port 1-65535"),
        ("mqtt:\n  url: mqtt://user:secret@broker\n", 2, "no user name, password"),
        ("mqtt:\n  url: mqtt://broker/topic\n", 2, "url must be"),
        ("mqtt:\n  url: mqtt://b\n  password: hunter2\n", 3, "password_file only"),
        ("mqtt:\n  url: mqtt://b\n  password_file: /p\n", 3, "needs a username"),
        ("mqtt:\n  url: mqtt://b\n  qos: 3\n", 3, "between 0 and 2"),
        ("mqtt:\n  url: mqtt://b\n  topic_prefix: a/#\n", 3, "topic_prefix must be"),
        ("mqtt:\n  url: mqtt://b\n  topic_prefix: /a\n", 3, "topic_prefix must be"),
        ("mqtt:\n  url: mqtt://b\n  discovery_prefix: \"\"\n", 3, "discovery_prefix must be"),
        ("mqtt:\n  url: mqtt://b\n  protocol: \"3.1\"\n", 3, "protocol must be"),
        ("mqtt:\n  url: mqtt://b\n  keepalive: 1\n", 3, "between 5 and 65535"),
        ("mqtt:\n  url: mqtt://b\n  ca_file: /ca\n", 3, "needs an mqtts:// url"),
        ("mqtt:\n  url: mqtt://b\n  insecure_skip_verify: true\n", 3, "needs an mqtts:// url"),
        ("mqtt:\n  url: mqtts://b\n  cert_file: /c.pem\n", 3, "cert_file and key_file go together"),
        ("mqtt:\n  url: mqtts://b\n  key_file: /c.key\n", 3, "cert_file and key_file go together"),
        ("mqtt:\n  url: mqtts://b\n  insecure: false\n", 3, "spelled 'insecure_skip_verify'"),
        ("mqtt:\n  url: mqtt://b\n  protocol_version: 5\n", 3, "spelled 'protocol'"),
        ("mqtt:\n  url: mqtts://b\n  cafile: /ca.pem\n", 3, "spelled 'ca_file'"),
        ("mqtt:\n  url: mqtt://b\n  reconnect_interval: 5\n  reconnect_interval_max: 1\n", 4, "must not be below"),
        ("mqtt:\n  url: mqtt://b\n  max_set_payload: 0\n", 3, "between 1 and 65536"),
        ("mqtt:\n  url: mqtt://b\n  allow_write: true\n", 3, "did you mean 'allow_writes'"),
        ("mqtt:\n  url: mqtt://b\n  register_topics: sometimes\n", 3, "register_topics must be changed, always or off"),
        ("mqtt:\n  url: mqtt://b\n  discovery: true\n  register_topics: off\n", 4, "without values"),
    ])
    func rejects(_ text: String, _ line: Int, _ fragment: String) throws {
        let error = try #require(try SiteSettingsTests.error(text), "accepted \(text)")
        #expect(error.line == line && error.description.contains(fragment), "got \(error)")
    }

    @Test("the password never appears in an error: a password key is refused without echoing its value")
    func passwordNotEchoed() throws {
        let error = try #require(try SiteSettingsTests.error("mqtt:\n  url: mqtt://b\n  password: s3cr3t-value\n"))
        #expect(!error.description.contains("s3cr3t-value"))
        let url = try #require(try SiteSettingsTests.error("mqtt:\n  url: mqtt://hpm:s3cr3t-value@broker\n"))
        #expect(url.line == 2 && !url.description.contains("s3cr3t-value"), "got \(url)")
    }
}
