import CCurl

/// HTTP over one reused libcurl easy handle (keep-alive). Not thread-safe: confine it to one
/// thread; every call blocks up to its timeout (or until `shouldAbort` says stop).
///
/// Bounded against a hostile or broken server: at most `maxBodyBytes` of a response body and
/// `maxHeaderBytes` of headers are kept; a longer body ends the transfer (the status and the kept
/// prefix are returned, `bodyTruncated` set), so memory never grows with what the server sends.
public final class CurlHTTPClient {
    /// TLS, timeout and bound options for every request.
    public struct Options: Sendable {
        public var timeout: Double
        public var caFile: String?
        public var insecureSkipVerify: Bool
        /// Most bytes of a response body kept (default 64 KiB).
        public var maxBodyBytes: Int
        /// Most bytes of response headers kept.
        public var maxHeaderBytes: Int = 64 * 1024
        /// Polled during a transfer (at least once a second); true aborts it with `CurlError.aborted`.
        public var shouldAbort: (@Sendable () -> Bool)?

        public init(timeout: Double = 10, caFile: String? = nil, insecureSkipVerify: Bool = false,
                    maxBodyBytes: Int = 64 * 1024, shouldAbort: (@Sendable () -> Bool)? = nil) {
            self.timeout = timeout
            self.caFile = caFile
            self.insecureSkipVerify = insecureSkipVerify
            self.maxBodyBytes = maxBodyBytes
            self.shouldAbort = shouldAbort
        }
    }

    private static let globalInit: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    private let handle: UnsafeMutableRawPointer
    public let options: Options

    public init(options: Options) throws {
        guard Self.globalInit, let easy = curl_easy_init() else { throw CurlError(code: -1, message: "curl_easy_init failed") }
        handle = easy
        self.options = options
    }

    deinit { curl_easy_cleanup(handle) }

    /// Accumulates the (bounded) response body and headers during one transfer.
    private final class Collector {
        let maxBody: Int
        let maxHeaders: Int
        let shouldAbort: (@Sendable () -> Bool)?
        var body: [UInt8] = []
        var truncated = false
        var headerBytes = 0
        var headers: [String: String] = [:]

        init(options: Options) {
            maxBody = max(0, options.maxBodyBytes)
            maxHeaders = max(0, options.maxHeaderBytes)
            shouldAbort = options.shouldAbort
        }
    }

    public func post(url: String, body: [UInt8], headers: [String]) throws -> HTTPResponse {
        try send(get: false, url: url, body: body, headers: headers)
    }

    public func get(url: String, headers: [String] = []) throws -> HTTPResponse {
        try send(get: true, url: url, body: [], headers: headers)
    }

    private func send(get: Bool, url: String, body: [UInt8], headers: [String]) throws -> HTTPResponse {
        let collector = Collector(options: options)
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers + ["Expect:"] { list = curl_slist_append(list, header) }
        defer { curl_slist_free_all(list) }

        curl_easy_reset(handle)
        hp_curl_setopt_string(handle, CURLOPT_URL, url)
        hp_curl_setopt_long(handle, get ? CURLOPT_HTTPGET : CURLOPT_POST, 1)
        hp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        hp_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(options.timeout * 1000))
        hp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(options.timeout, 10) * 1000))
        hp_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        if let caFile = options.caFile, !caFile.isEmpty { hp_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if options.insecureSkipVerify {
            hp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            hp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        hp_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
        hp_curl_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            let collector = Unmanaged<Collector>.fromOpaque(user).takeUnretainedValue()
            let bytes = size * count
            let room = collector.maxBody - collector.body.count
            guard bytes <= room else {
                // Keep the prefix and end the transfer: returning less than given aborts it.
                collector.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: max(0, room)))
                collector.truncated = true
                return 0
            }
            collector.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: bytes))
            return bytes
        }
        hp_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        hp_curl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            let collector = Unmanaged<Collector>.fromOpaque(user).takeUnretainedValue()
            let bytes = size * count
            collector.headerBytes += bytes
            guard collector.headerBytes <= collector.maxHeaders else { return bytes }  // read on, keep no more
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: bytes), as: UTF8.self)
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                collector.headers[name] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \r\n")
            }
            return bytes
        }
        hp_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())
        if options.shouldAbort != nil {
            hp_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            hp_curl_setopt_xferinfo_callback(handle) { user, _, _, _, _ in
                guard let user else { return 0 }
                let collector = Unmanaged<Collector>.fromOpaque(user).takeUnretainedValue()
                return collector.shouldAbort?() == true ? 1 : 0
            }
            hp_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context.toOpaque())
        }

        let payload = body.isEmpty ? [0] : body  // a valid pointer even for an empty POST
        let rc: CURLcode = payload.withUnsafeBufferPointer { buffer in
            if !get {
                hp_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
                // POSTFIELDS does not copy: the buffer stays alive for the whole perform call.
                hp_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
            return curl_easy_perform(handle)
        }
        let cutShort = rc == CURLE_WRITE_ERROR && collector.truncated
        guard rc == CURLE_OK || cutShort else { throw CurlError(rc, detail: CurlError.redacted(url)) }
        var status = 0
        hp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: collector.headers, body: String(decoding: collector.body, as: UTF8.self),
                            bodyTruncated: collector.truncated)
    }
}
