/// An HTTP response: status, lower-cased header names, body text (at most the client's bound).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String
    /// The server sent more body than the client keeps; `body` is its prefix.
    public var bodyTruncated: Bool

    public init(status: Int, headers: [String: String], body: String, bodyTruncated: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
    }

    /// `Retry-After` in seconds, when given as a number.
    /// Anything but a finite, non-negative number ("inf", "nan", "-5") counts as absent.
    public var retryAfter: Double? {
        guard let value = headers["retry-after"].flatMap({ Double($0.trimmingCharacters(in: " \r\n")) }), value.isFinite, value >= 0 else { return nil }
        return value
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
