/// An HTTP response: status, lower-cased header names, body text.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: String

    public init(status: Int, headers: [String: String], body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `Retry-After` in seconds, when given as a number.
    public var retryAfter: Double? { headers["retry-after"].flatMap { Double($0.trimmingCharacters(in: " \r\n")) } }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
