/// Parses `mqtt:` — every key checked, every number range-checked, the password only from a file.
enum MQTTParser {
    static func parse(_ node: YAMLNode) throws -> MQTTSettings {
        let map = try node.mapping()
        var s = MQTTSettings()
        let urlNode = try map.required("url")
        s.url = try urlNode.string()
        guard let endpoint = endpoint(s.url) else {
            // User info may hold a password: never echoed.
            let shown = s.url.contains("@") ? "a url with user info (user:password@)" : "\"\(s.url)\""
            throw urlNode.error(.invalidValue, "url must be mqtt://host[:port] or mqtts://host[:port] (port 1-65535, no user name, password or path), found \(shown)")
        }
        (s.tls, s.host, s.port) = endpoint
        s.enabled = try map.bool("enabled", default: true)
        if let idNode = map.optional("client_id") {
            s.clientID = try idNode.string()
            guard (1...256).contains(s.clientID.utf8.count), !s.clientID.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw idNode.error(.invalidValue, "client_id must be 1-256 bytes without control characters")
            }
        }
        s.username = try map.string("username", default: "")
        s.passwordFile = try map.string("password_file", default: "")
        if let passwordNode = map.optional("password") {
            throw passwordNode.error(.invalidValue, "the MQTT password is read from password_file only (collector.yml is often world-readable and shown by tools)")
        }
        if !s.passwordFile.isEmpty && s.username.isEmpty {
            throw try map.required("password_file").error(.invalidValue, "password_file needs a username")
        }
        s.topicPrefix = try topic(map, "topic_prefix", s.topicPrefix)
        s.discovery = try map.bool("discovery", default: false)
        s.discoveryPrefix = try topic(map, "discovery_prefix", s.discoveryPrefix)
        s.allowWrites = try map.bool("allow_writes", default: false)
        s.qos = try map.int("qos", default: s.qos, within: 0...2)
        s.retain = try map.bool("retain", default: true)
        if let node = map.optional("register_topics") {
            let text = try node.string()
            guard let value = MQTTSettings.RegisterTopics(rawValue: text) else {
                throw node.error(.invalidValue, "register_topics must be changed, always or off, found \"\(text)\"")
            }
            s.registerTopics = value
        }
        if s.registerTopics == .off && s.discovery {
            throw try map.required("register_topics").error(.invalidValue, "register_topics: off leaves Home Assistant's discovered entities without values (they read the register topics); use changed or turn discovery off")
        }
        if let protocolNode = map.optional("protocol") {
            switch try protocolNode.string() {
            case "3.1.1", "311", "4": s.protocolVersion = 4
            case "5", "5.0": s.protocolVersion = 5
            case let other: throw protocolNode.error(.invalidValue, "protocol must be \"3.1.1\" or \"5\", found \"\(other)\"")
            }
        }
        s.keepalive = try map.int("keepalive", default: s.keepalive, within: 5...65535)
        s.caFile = try map.string("ca_file", default: "")
        s.certFile = try map.string("cert_file", default: "")
        s.keyFile = try map.string("key_file", default: "")
        s.insecureSkipVerify = try map.bool("insecure_skip_verify", default: false)
        if !s.tls, let tlsKey = ["ca_file", "cert_file", "key_file", "insecure_skip_verify"].first(where: { map.optional($0) != nil }) {
            throw try map.required(tlsKey).error(.invalidValue, "\(tlsKey) needs an mqtts:// url")
        }
        if s.certFile.isEmpty != s.keyFile.isEmpty {
            throw try map.required(s.certFile.isEmpty ? "key_file" : "cert_file").error(.invalidValue, "cert_file and key_file go together (a client certificate and its private key)")
        }
        // Spellings other tools use, pointed at ours rather than listed among every key.
        for (other, ours) in [("insecure", "insecure_skip_verify"), ("protocol_version", "protocol"), ("cafile", "ca_file"), ("certfile", "cert_file"), ("keyfile", "key_file")] {
            if let wrong = map.optional(other) { throw wrong.error(.invalidValue, "unknown key '\(other)': this key is spelled '\(ours)'") }
        }
        s.reconnectInterval = try map.seconds("reconnect_interval", default: s.reconnectInterval, within: ConfigLimits.mqttReconnect)
        s.reconnectIntervalMax = try map.seconds("reconnect_interval_max", default: max(s.reconnectIntervalMax, s.reconnectInterval),
                                                 within: ConfigLimits.mqttReconnect)
        if s.reconnectIntervalMax < s.reconnectInterval {
            throw try map.required("reconnect_interval_max").error(.invalidValue, "reconnect_interval_max (\(s.reconnectIntervalMax)) must not be below reconnect_interval (\(s.reconnectInterval))")
        }
        s.maxInflight = try map.int("max_inflight", default: s.maxInflight, within: 1...65535)
        s.outboxPath = try map.string("outbox_path", default: "")
        s.outboxMaxTopics = try map.int("outbox_max_topics", default: s.outboxMaxTopics, within: 1...10_000_000)
        s.maxSetPayload = try map.int("max_set_payload", default: s.maxSetPayload, within: 1...65536)
        try map.rejectUnknownKeys()
        return s
    }

    /// `mqtt[s]://host[:port]` with an optional trailing `/`; host name or IP literal (`[v6]`).
    static func endpoint(_ url: String) -> (tls: Bool, host: String, port: Int)? {
        let tls: Bool
        var rest: Substring
        if url.hasPrefix("mqtt://") { tls = false; rest = url.dropFirst(7) } else if url.hasPrefix("mqtts://") { tls = true; rest = url.dropFirst(8) } else { return nil }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("@"), !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else { return nil }
        var host = rest
        var port = MQTTSettings.defaultPort(tls: tls)
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = p
        }
        guard ConfigLimits.tcpPort.contains(port), !host.isEmpty,
              host.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7F }) else { return nil }
        return (tls, String(host), port)
    }

    /// A topic prefix: 1-128 bytes, no wildcards (`+`, `#`), no NUL or control characters, no leading or trailing `/`.
    private static func topic(_ map: YAMLMapping, _ key: String, _ fallback: String) throws -> String {
        guard let node = map.optional(key) else { return fallback }
        let text = try node.string()
        guard isTopicPrefix(text) else {
            throw node.error(.invalidValue, "\(key) must be 1-128 bytes of topic levels without +, #, control characters or a leading/trailing '/', found \"\(text)\"")
        }
        return text
    }

    static func isTopicPrefix(_ text: String) -> Bool {
        (1...128).contains(text.utf8.count) && !text.hasPrefix("/") && !text.hasSuffix("/") && !text.contains("//")
            && !text.unicodeScalars.contains { $0 == "+" || $0 == "#" || $0.value < 0x20 || $0.value == 0x7F }
    }
}
