/// A control request that cannot be carried out; `code` is machine-readable.
public struct ControlError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
