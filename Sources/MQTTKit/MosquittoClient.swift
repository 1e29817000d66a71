import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

/// The one Swift wrapper around a libmosquitto client (`struct mosquitto *`).
///
/// Not `Sendable`: one thread owns a client and makes every call on it, including `loop`, during
/// which libmosquitto runs the callbacks on that same thread. Without `mosquitto_loop_start` the
/// library starts no thread of its own, so no call ever races another. Callbacks only append to
/// `events`; the owner reads them from `loop`'s result.
public final class MosquittoClient {
    public struct TLS: Sendable, Hashable {
        /// CA bundle for the broker's certificate; empty: the system's trust store.
        public var caFile: String
        public var certFile: String
        public var keyFile: String
        /// Skips the host-name check (self-signed test brokers); never the default.
        public var insecure: Bool

        public init(caFile: String = "", certFile: String = "", keyFile: String = "", insecure: Bool = false) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.insecure = insecure
        }
    }

    public struct Options: Sendable {
        public var clientID: String
        /// 4 = MQTT 3.1.1, 5 = MQTT 5.
        public var protocolVersion: Int32 = 4
        public var username: String = ""
        /// Read from a file by the caller; held only here and handed to libmosquitto.
        public var password: String?
        public var tls: TLS?
        /// QoS 1 messages libmosquitto may have unacknowledged at once.
        public var maxInflight: Int = 100
        /// Longest incoming payload delivered with its bytes; longer ones arrive marked truncated.
        public var maxIncomingPayload: Int = 4096

        public init(clientID: String) { self.clientID = clientID }
    }

    /// Where the C callbacks put what happened (reached through libmosquitto's `obj` pointer).
    final class EventBox {
        var events: [MosquittoEvent] = []
        /// The newest error or warning libmosquitto logged (`OpenSSL Error[0]: … certificate verify failed`);
        /// its return codes alone only say "A TLS error occurred".
        var lastLogged: String?
        let maxPayload: Int
        init(maxPayload: Int) { self.maxPayload = maxPayload }
    }

    private let handle: OpaquePointer
    private let box: EventBox
    /// Whether `logCallback` is set (only `loop`'s thread changes it).
    private var logging = true
    /// 4 = MQTT 3.1.1, 5 = MQTT 5: how CONNACK codes read.
    public let protocolVersion: Int32

    public init(_ options: Options) throws(MosquittoError) {
        protocolVersion = options.protocolVersion
        try MosquittoError.check(MosquittoLibrary.ensureInitialised(), "lib_init")
        box = EventBox(maxPayload: options.maxIncomingPayload)
        guard let mosq = mosquitto_new(options.clientID, true, Unmanaged.passUnretained(box).toOpaque()) else {
            throw MosquittoError(code: MOSQ_ERR_NOMEM.rawValue, errno: errno, operation: "new")
        }
        handle = mosq
        try MosquittoError.check(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, options.protocolVersion), "protocol_version")
        try MosquittoError.check(mosquitto_max_inflight_messages_set(mosq, UInt32(clamping: max(1, options.maxInflight))), "max_inflight")
        if !options.username.isEmpty || options.password != nil {
            try MosquittoError.check(mosquitto_username_pw_set(mosq, options.username, options.password), "username_pw_set")
        }
        if let tls = options.tls {
            // libmosquitto answers an unreadable file with "Invalid function arguments provided": name the file instead.
            for (key, path) in [("ca_file", tls.caFile), ("cert_file", tls.certFile), ("key_file", tls.keyFile)] where !path.isEmpty {
                guard access(path, R_OK) == 0 else {
                    let reason = String(cString: strerror(Glibc.errno))
                    throw MosquittoError(code: MOSQ_ERR_INVAL.rawValue, operation: "tls_set", detail: "cannot read \(key) \(path): \(reason)")
                }
            }
            if tls.caFile.isEmpty {
                try MosquittoError.check(mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "tls_use_os_certs")
            }
            if !tls.caFile.isEmpty || !tls.certFile.isEmpty {
                try MosquittoError.check(mosquitto_tls_set(mosq, tls.caFile.isEmpty ? nil : tls.caFile, tls.caFile.isEmpty ? "/etc/ssl/certs" : nil,
                                                           tls.certFile.isEmpty ? nil : tls.certFile, tls.keyFile.isEmpty ? nil : tls.keyFile, nil),
                                         "tls_set")
            }
            try MosquittoError.check(mosquitto_tls_insecure_set(mosq, tls.insecure), "tls_insecure_set")
            if tls.insecure {
                // As Telegraf's insecure_skip_verify: neither the chain nor the host name is checked (0 = SSL_VERIFY_NONE).
                try MosquittoError.check(mosquitto_tls_opts_set(mosq, 0, nil, nil), "tls_opts_set")
            }
        }
        mosquitto_connect_callback_set(mosq) { _, obj, rc in
            MosquittoClient.box(obj)?.events.append(.connected(code: rc))
        }
        mosquitto_disconnect_callback_set(mosq) { _, obj, rc in
            MosquittoClient.box(obj)?.events.append(.disconnected(code: rc))
        }
        mosquitto_publish_callback_set(mosq) { _, obj, mid in
            MosquittoClient.box(obj)?.events.append(.published(mid: mid))
        }
        mosquitto_log_callback_set(mosq, Self.logCallback)
        mosquitto_message_callback_set(mosq) { _, obj, message in
            guard let box = MosquittoClient.box(obj), let message, let topic = message.pointee.topic else { return }
            let length = Int(message.pointee.payloadlen)
            if length > box.maxPayload {
                box.events.append(.message(topic: String(cString: topic), payload: [], truncated: true))
                return
            }
            var payload: [UInt8] = []
            if length > 0, let bytes = message.pointee.payload {
                payload = Array(UnsafeRawBufferPointer(start: bytes, count: length))
            }
            box.events.append(.message(topic: String(cString: topic), payload: payload, truncated: false))
        }
    }

    deinit {
        mosquitto_destroy(handle)
    }

    /// Keeps libmosquitto's newest error or warning. While a log callback is set, libmosquitto
    /// formats every line it could log, at every level (a `vsnprintf` and a `malloc` per packet:
    /// "Client … sending PUBLISH …"), so it is set only while the connection is not up, when the
    /// reasons it logs (TLS handshake, refused connect) are what an error message needs.
    private static let logCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { _, obj, level, text in
        guard level & Int32(MOSQ_LOG_ERR | MOSQ_LOG_WARNING) != 0, let text, let box = MosquittoClient.box(obj) else { return }
        box.lastLogged = String(cString: text)
    }

    /// Whether libmosquitto's errors and warnings are being kept for `takeLogged`: while the
    /// connection is not up (see `logCallback`).
    public var capturesLog: Bool { logging }

    /// Whether libmosquitto's log reaches `takeLogged` (see `logCallback`).
    private func setLogging(_ on: Bool) {
        guard on != logging else { return }
        logging = on
        mosquitto_log_callback_set(handle, on ? Self.logCallback : nil)
    }

    private static func box(_ obj: UnsafeMutableRawPointer?) -> EventBox? {
        obj.map { Unmanaged<EventBox>.fromOpaque($0).takeUnretainedValue() }
    }

    /// The Last Will the broker publishes when the connection dies without a DISCONNECT (set before `connect`).
    public func setWill(topic: String, payload: [UInt8], qos: Int32, retain: Bool) throws(MosquittoError) {
        let rc = payload.withUnsafeBytes { mosquitto_will_set(handle, topic, Int32(payload.count), $0.baseAddress, qos, retain) }
        try MosquittoError.check(rc, "will_set")
    }

    /// Starts connecting without waiting for the broker (DNS lookup aside); CONNACK arrives as `.connected` from `loop`.
    public func connect(host: String, port: Int, keepalive: Int) throws(MosquittoError) {
        setLogging(true)
        do throws(MosquittoError) {
            try MosquittoError.check(mosquitto_connect_async(handle, host, Int32(clamping: port), Int32(clamping: keepalive)), "connect")
        } catch {
            // A TLS handshake that fails at once (loopback, a LAN broker) fails here: its reason is only in the log.
            var error = error
            error.detail = takeLogged()
            throw error
        }
    }

    /// Queues a publish; returns its message id (acknowledged by `.published(mid:)` for QoS 1).
    @discardableResult
    public func publish(topic: String, payload: [UInt8], qos: Int32, retain: Bool) throws(MosquittoError) -> Int32 {
        var mid: Int32 = 0
        let rc = payload.withUnsafeBytes { mosquitto_publish(handle, &mid, topic, Int32(payload.count), $0.baseAddress, qos, retain) }
        try MosquittoError.check(rc, "publish")
        return mid
    }

    /// Runs `body` with the connection's TCP socket corked (`TCP_CORK`), so that the publishes it
    /// makes leave in full segments when it returns, instead of one segment (and one wake of the
    /// broker) per message; uncorking sends what is left at once. libmosquitto still writes each
    /// packet with its own `write(2)`, but into a corked socket that is a copy, not a transmit.
    /// Without a TCP socket (not connected yet, a Unix socket) `body` just runs.
    public func corked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let fd = mosquitto_socket(handle)
        var on: Int32 = 1
        let corked = fd >= 0 && setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &on, socklen_t(MemoryLayout<Int32>.size)) == 0
        // `handle` (and so its socket) lives as long as `self`, which the caller holds through `body`.
        defer {
            if corked {
                var off: Int32 = 0
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_CORK, &off, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        return try body()
    }

    public func subscribe(_ pattern: String, qos: Int32) throws(MosquittoError) {
        try MosquittoError.check(mosquitto_subscribe(handle, nil, pattern, qos), "subscribe")
    }

    /// Runs the network for up to `timeoutMs`: reads, writes, keepalive, callbacks. Returns what
    /// the callbacks reported and, when the connection is gone, why.
    public func loop(timeoutMs: Int32) -> (events: [MosquittoEvent], error: MosquittoError?) {
        let rc = network(timeoutMs: timeoutMs)
        var failure: MosquittoError?
        do throws(MosquittoError) { try MosquittoError.check(rc, "loop") } catch {
            failure = error
            failure?.detail = takeLogged()
        }
        let events = box.events
        box.events.removeAll(keepingCapacity: true)
        // Logging off once the broker accepted the connection, on again as soon as it is gone.
        for event in events {
            switch event {
            case .connected(let code): setLogging(code != 0)
            case .disconnected: setLogging(true)
            default: break
            }
        }
        if failure != nil { setLogging(true) }
        return (events, failure)
    }

    /// One round of network work: `poll()` on the connection's socket, then libmosquitto's
    /// `loop_read`, `loop_write` and `loop_misc`, its documented interface for an external loop.
    ///
    /// Not `mosquitto_loop`, for two reasons. It waits in `select()`, which cannot take a descriptor
    /// numbered 1024 or more and answers MOSQ_ERR_INVAL: in a daemon with over a thousand Modbus
    /// connections a new MQTT client gets such numbers and would never connect. And it also waits on
    /// libmosquitto's wake-up socket pair, into which every `mosquitto_publish` writes a byte (to
    /// interrupt a loop on another thread; here the loop and the publishes share one thread), and
    /// reads those bytes back: at fleet scale that was a third of this thread's system calls. The
    /// pair is never read here; once its buffer is full those one-byte writes fail at once (it is
    /// non-blocking) and nothing waits on them.
    func network(timeoutMs: Int32) -> Int32 {
        let fd = mosquitto_socket(handle)
        guard fd >= 0 else { return Int32(MOSQ_ERR_NO_CONN.rawValue) }
        var events = Int16(POLLIN)
        if mosquitto_want_write(handle) { events |= Int16(POLLOUT) }
        var ready = pollfd(fd: fd, events: events, revents: 0)
        let n = poll(&ready, 1, max(0, timeoutMs))
        if n < 0 { return Glibc.errno == EINTR ? Int32(MOSQ_ERR_SUCCESS.rawValue) : Int32(MOSQ_ERR_ERRNO.rawValue) }
        if n > 0 {
            if ready.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
                let rc = mosquitto_loop_read(handle, 1)
                if rc != MOSQ_ERR_SUCCESS.rawValue || mosquitto_socket(handle) < 0 { return rc }
            }
            if mosquitto_want_write(handle) {
                let rc = mosquitto_loop_write(handle, 1)
                if rc != MOSQ_ERR_SUCCESS.rawValue || mosquitto_socket(handle) < 0 { return rc }
            }
        }
        return mosquitto_loop_misc(handle)
    }

    /// Sends DISCONNECT (the broker then does not publish the Will).
    public func disconnect() {
        _ = mosquitto_disconnect(handle)
    }

    /// The newest error or warning libmosquitto logged since the last call (the TLS reason behind
    /// a failed handshake), at most 300 characters.
    public func takeLogged() -> String? {
        defer { box.lastLogged = nil }
        return box.lastLogged.map { String($0.prefix(300)) }
    }

    /// Whether libmosquitto still has bytes to send.
    public var wantsWrite: Bool { mosquitto_want_write(handle) }
}

extension MosquittoClient {
    /// The broker's CONNACK refusal in words: a 3.1.1 return code (`Connection Refused: not
    /// authorised.`) or, under MQTT 5, a reason code (135: `Not authorized`).
    public static func connackDescription(_ code: Int32, protocolVersion: Int32) -> String {
        String(cString: protocolVersion == 5 ? mosquitto_reason_string(code) : mosquitto_connack_string(code))
    }

    /// Why the connection closed, for a `.disconnected(code:)`: a libmosquitto error code, or under
    /// MQTT 5 the reason code of the broker's DISCONNECT; plus what libmosquitto logged about it.
    public func disconnectDescription(_ code: Int32) -> String {
        let text = String(cString: protocolVersion == 5 && code >= 128 ? mosquitto_reason_string(code) : mosquitto_strerror(code))
        return "\(text) (\(code))" + (takeLogged().map { ": \($0)" } ?? "")
    }
}
