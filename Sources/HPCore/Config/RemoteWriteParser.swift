/// Parses `remote_write:` — a list of receivers, as in Prometheus' own configuration.
enum RemoteWriteParser {
    static func parse(_ node: YAMLNode) throws -> [RemoteWriteSettings] {
        var result: [RemoteWriteSettings] = []
        var names: Set<String> = []
        for (index, item) in try node.sequence().enumerated() {
            var s = try entry(item)
            if s.name.isEmpty { s.name = "rw\(index + 1)" }
            guard names.insert(s.name).inserted else { throw item.error(.duplicate, "remote_write name \"\(s.name)\" is used twice") }
            guard s.spoolPath.isEmpty || !result.contains(where: { $0.spoolPath == s.spoolPath }) else {
                throw item.error(.duplicate, "spool_path \"\(s.spoolPath)\" is used by another remote_write entry")
            }
            result.append(s)
        }
        return result
    }

    private static func entry(_ node: YAMLNode) throws -> RemoteWriteSettings {
        let map = try node.mapping()
        var s = RemoteWriteSettings()
        if let nameNode = map.optional("name") {
            s.name = try nameNode.string()
            // It names the spool file and a metrics label.
            guard SiteSettings.isValidID(s.name) else {
                throw nameNode.error(.invalidValue, "name must be 1-64 letters, digits, '_', '-' or '.', found \"\(s.name)\"")
            }
        }
        let urlNode = try map.required("url")
        s.url = try urlNode.string()
        guard s.url.hasPrefix("http://") || s.url.hasPrefix("https://") else {
            throw urlNode.error(.invalidValue, "url must start with http:// or https://, found \"\(s.url)\"")
        }
        if let headersNode = map.optional("headers") {
            let headers = try headersNode.mapping()
            for key in headers.keys {
                let valueNode = try headers.required(key)
                let value = try valueNode.string()
                guard isToken(key) else { throw valueNode.error(.invalidValue, "header name \"\(key)\" is not an HTTP token") }
                guard !value.contains(where: { $0 == "\r" || $0 == "\n" }) else {
                    throw valueNode.error(.invalidValue, "header \(key) must not contain line breaks")
                }
                // These are ours: a second copy would make the request ambiguous.
                let lower = key.lowercased()
                guard !["content-type", "content-encoding", "content-length", "x-prometheus-remote-write-version", "authorization"].contains(lower) else {
                    throw valueNode.error(.invalidValue, "header \(key) is set by hpmanager (use basic_auth or bearer_token_file for Authorization)")
                }
                s.headers[key] = value
            }
            try headers.rejectUnknownKeys()
        }
        if let authNode = map.optional("basic_auth") {
            let auth = try authNode.mapping()
            let username = try auth.required("username").string()
            let passwordFile = try auth.string("password_file", default: "")
            guard !username.isEmpty else { throw authNode.error(.invalidValue, "basic_auth needs a username") }
            s.basicAuth = .init(username: username, passwordFile: passwordFile)
            try auth.rejectUnknownKeys()
        }
        s.bearerTokenFile = try map.string("bearer_token_file", default: "")
        if s.basicAuth != nil && !s.bearerTokenFile.isEmpty {
            throw node.error(.invalidValue, "basic_auth and bearer_token_file exclude each other")
        }
        s.timeout = try map.seconds("timeout", default: s.timeout, within: ConfigLimits.influxTimeout)
        s.caFile = try map.string("ca_file", default: "")
        s.insecureSkipVerify = try map.bool("insecure_skip_verify", default: false)
        if let queueNode = map.optional("queue") {
            let q = try queueNode.mapping()
            s.queue.capacity = try q.int("capacity", default: s.queue.capacity, within: 1...100_000_000)
            s.queue.maxSamplesPerSend = try q.int("max_samples_per_send", default: s.queue.maxSamplesPerSend, within: 1...1_000_000)
            s.queue.maxShards = try q.int("max_shards", default: s.queue.maxShards, within: 1...64)
            s.queue.batchSendDeadline = try q.seconds("batch_send_deadline", default: s.queue.batchSendDeadline, within: ConfigLimits.batchInterval)
            s.queue.minBackoff = try q.seconds("min_backoff", default: s.queue.minBackoff, within: ConfigLimits.influxRetryInterval)
            s.queue.maxBackoff = try q.seconds("max_backoff", default: max(s.queue.maxBackoff, s.queue.minBackoff), within: ConfigLimits.influxRetryInterval)
            if s.queue.maxBackoff < s.queue.minBackoff {
                throw queueNode.error(.invalidValue, "max_backoff (\(s.queue.maxBackoff)) must not be below min_backoff (\(s.queue.minBackoff))")
            }
            try q.rejectUnknownKeys()
        }
        s.spoolPath = try map.string("spool_path", default: "")
        s.spoolMaxMB = try map.int("spool_max_mb", default: s.spoolMaxMB, within: 1...1_000_000)
        s.deadLetterRetention = try map.seconds("dead_letter_retention", default: s.deadLetterRetention, within: ConfigLimits.deadLetterRetention)
        s.deadLetterMax = try map.int("dead_letter_max", default: s.deadLetterMax, within: 0...10_000_000)
        try map.rejectUnknownKeys()
        return s
    }

    /// RFC 9110 token characters.
    private static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }
}
