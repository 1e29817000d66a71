import CCurl

/// HTTP POST over one reused libcurl easy handle (keep-alive). Not thread-safe: confine it to one
/// thread; every call blocks up to its timeout.
public final class CurlHTTPClient {
    /// TLS and timeout options for every request.
    public struct Options: Sendable {
        public var timeout: Double
        public var caFile: String?
        public var insecureSkipVerify: Bool

        public init(timeout: Double = 10, caFile: String? = nil, insecureSkipVerify: Bool = false) {
            self.timeout = timeout
            self.caFile = caFile
            self.insecureSkipVerify = insecureSkipVerify
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

    /// Accumulates the response body and headers during one transfer.
    private final class Collector {
        var body: [UInt8] = []
        var headers: [String: String] = [:]
    }

    public func post(url: String, body: [UInt8], headers: [String]) throws -> HTTPResponse {
        try send(get: false, url: url, body: body, headers: headers)
    }

    public func get(url: String, headers: [String] = []) throws -> HTTPResponse {
        try send(get: true, url: url, body: [], headers: headers)
    }

    private func send(get: Bool, url: String, body: [UInt8], headers: [String]) throws -> HTTPResponse {
        let collector = Collector()
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
            collector.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }
        hp_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque())
        hp_curl_setopt_write_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            guard let data, let user else { return 0 }
            let collector = Unmanaged<Collector>.fromOpaque(user).takeUnretainedValue()
            let line = String(decoding: UnsafeRawBufferPointer(start: data, count: size * count), as: UTF8.self)
            if let colon = line.firstIndex(of: ":") {
                let name = line[..<colon].lowercased()
                collector.headers[name] = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \r\n")
            }
            return size * count
        }
        hp_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque())

        let payload = body.isEmpty ? [0] : body  // a valid pointer even for an empty POST
        let rc: CURLcode = payload.withUnsafeBufferPointer { buffer in
            if !get {
                hp_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count)
                // POSTFIELDS does not copy: the buffer stays alive for the whole perform call.
                hp_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress))
            }
            return curl_easy_perform(handle)
        }
        guard rc == CURLE_OK else { throw CurlError(rc, detail: url) }
        var status = 0
        hp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: collector.headers, body: String(decoding: collector.body, as: UTF8.self))
    }
}
