import HPCore

/// Who sent a request: a configured token (by name, never its value) or a loopback client when no tokens are configured.
public struct APICaller: Sendable, Hashable {
    public var name: String
    public var role: HTTPSettings.Token.Role

    /// The audit's `client` column.
    public var auditName: String { "http:\(name)" }

    /// The settings audit's `client`: token name and role.
    public var settingsAuditName: String { "\(auditName) (\(role.rawValue))" }

    public var mayWrite: Bool { role == .operator || role == .admin }
    public var mayChangeSettings: Bool { role == .admin }
}
