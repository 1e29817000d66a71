import CCurl

/// A failed libcurl transfer (no HTTP status): connection refused, timeout, TLS, ….
///
/// Never carries a secret: the URL in `message` is reduced to scheme, host, port and path.
public struct CurlError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    init(_ code: CURLcode, detail: String = "") {
        self.code = Int(code.rawValue)
        let text = String(cString: curl_easy_strerror(code))
        message = detail.isEmpty ? text : "\(text): \(detail)"
    }

    /// The transfer was stopped by `Options.shouldAbort`.
    public var isAborted: Bool { code == Int(CURLE_ABORTED_BY_CALLBACK.rawValue) }

    public var description: String { "curl error \(code): \(message)" }

    /// `url` without user info (`user:password@`), query and fragment: safe to log.
    public static func redacted(_ url: String) -> String {
        var rest = Substring(url)
        var scheme = ""
        if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://") {
            let afterScheme = rest.index(colon, offsetBy: 3)
            scheme = String(rest[..<afterScheme])
            rest = rest[afterScheme...]
        }
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        if let at = rest[..<authorityEnd].lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        return scheme + rest
    }
}
