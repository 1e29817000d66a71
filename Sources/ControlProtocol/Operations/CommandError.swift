/// An operation that cannot be carried out: a stable `code` and a message for people.
/// The socket answers `{"ok":false,"error":{"code","message"}}`, HTTP `{"error":{"code","message"}}`
/// with `code.httpStatus`.
public struct CommandError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// The input field at fault (`collector.poll_interval`), when one is.
    public var field: String?

    public init(_ code: ErrorCode, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }
    public var httpStatus: Int { code.httpStatus }
}

