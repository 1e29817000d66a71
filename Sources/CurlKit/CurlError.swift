import CCurl

/// A failed libcurl transfer (no HTTP status): connection refused, timeout, TLS, ….
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

    public var description: String { "curl error \(code): \(message)" }
}
