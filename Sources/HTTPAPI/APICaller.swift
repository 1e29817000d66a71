import HPCore

/// Who sent a request: a configured token (by name, never its value) or a loopback client when no tokens are configured.
public struct APICaller: Sendable, Hashable {
    public var name: String
    public var role: HTTPSettings.Token.Role

    /// The audit's `client` column.
    public var auditName: String { "http:\(name)" }

    public var mayWrite: Bool { role == .operator }
}
