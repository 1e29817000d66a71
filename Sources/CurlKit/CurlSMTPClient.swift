import CCurl

/// Sends mail over SMTP with libcurl (`smtp://` with optional STARTTLS, or `smtps://`). Not
/// thread-safe: confine it to one thread; every call blocks up to its timeout.
public final class CurlSMTPClient {
    public struct Options: Sendable {
        public var timeout: Double
        public var caFile: String?
        public var insecureSkipVerify: Bool
        /// `smtp://`: upgrade with STARTTLS and fail if the server cannot (never send in the clear).
        public var requireTLS: Bool
        public var shouldAbort: (@Sendable () -> Bool)?

        public init(timeout: Double = 10, caFile: String? = nil, insecureSkipVerify: Bool = false, requireTLS: Bool = true,
                    shouldAbort: (@Sendable () -> Bool)? = nil) {
            self.timeout = timeout
            self.caFile = caFile
            self.insecureSkipVerify = insecureSkipVerify
            self.requireTLS = requireTLS
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

    /// The message as libcurl reads it, and the abort check.
    private final class Source {
        let bytes: [UInt8]
        var offset = 0
        let shouldAbort: (@Sendable () -> Bool)?
        init(bytes: [UInt8], shouldAbort: (@Sendable () -> Bool)?) {
            self.bytes = bytes
            self.shouldAbort = shouldAbort
        }
    }

    /// Sends `message` (RFC 5322 text with CRLF line ends) from `from` to every address in `to`.
    /// Returns the server's last reply code (250 on success); throws `SMTPError` otherwise.
    @discardableResult
    public func send(url: String, from: String, to: [String], message: [UInt8], username: String?, password: String?) throws -> Int {
        let source = Source(bytes: message, shouldAbort: options.shouldAbort)
        let context = Unmanaged.passRetained(source)
        defer { context.release() }
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in to { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { curl_slist_free_all(recipients) }

        curl_easy_reset(handle)
        hp_curl_setopt_string(handle, CURLOPT_URL, url)
        hp_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        hp_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(options.timeout * 1000))
        hp_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(options.timeout, 10) * 1000))
        // Bounds each wait for a server reply, also the QUIT libcurl sends when the handle is cleaned
        // up (CURLOPT_TIMEOUT does not cover that one; the default is 120 s).
        hp_curl_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT, max(1, Int(min(options.timeout, 3600).rounded(.up))))
        hp_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
        hp_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        hp_curl_setopt_long(handle, CURLOPT_UPLOAD, 1)
        if options.requireTLS { hp_curl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
        if let username, !username.isEmpty { hp_curl_setopt_string(handle, CURLOPT_USERNAME, username) }
        if let password, !password.isEmpty { hp_curl_setopt_string(handle, CURLOPT_PASSWORD, password) }
        if let caFile = options.caFile, !caFile.isEmpty { hp_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
        if options.insecureSkipVerify {
            hp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            hp_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        hp_curl_setopt_read_callback(handle) { buffer, size, count, user in
            guard let buffer, let user else { return 0 }
            let source = Unmanaged<Source>.fromOpaque(user).takeUnretainedValue()
            let room = size * count
            let n = min(room, source.bytes.count - source.offset)
            guard n > 0 else { return 0 }
            source.bytes.withUnsafeBufferPointer { all in
                guard let base = all.baseAddress else { return }
                UnsafeMutableRawPointer(buffer).copyMemory(from: base + source.offset, byteCount: n)
            }
            source.offset += n
            return n
        }
        hp_curl_setopt_pointer(handle, CURLOPT_READDATA, context.toOpaque())
        if options.shouldAbort != nil {
            hp_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
            hp_curl_setopt_xferinfo_callback(handle) { user, _, _, _, _ in
                guard let user else { return 0 }
                return Unmanaged<Source>.fromOpaque(user).takeUnretainedValue().shouldAbort?() == true ? 1 : 0
            }
            hp_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, context.toOpaque())
        }
        let rc = curl_easy_perform(handle)
        var code = 0
        hp_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        guard rc == CURLE_OK else { throw SMTPError(curl: CurlError(rc, detail: CurlError.redacted(url)), reply: code) }
        return code
    }
}

/// A failed mail transfer: libcurl's error and the server's last reply code (0 when none).
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public var curl: CurlError
    public var reply: Int

    /// A 5xx reply: the server refuses for good (unknown recipient, relaying denied, …).
    public var isPermanent: Bool { (500...599).contains(reply) }

    public var description: String { reply > 0 ? "\(curl) (SMTP reply \(reply))" : "\(curl)" }
}
