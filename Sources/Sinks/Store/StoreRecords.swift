/// A row of the `events` table.
public struct StoredEvent: Sendable, Hashable {
    public var at: Double
    public var heatpumpID: String?
    public var kind: String
    public var message: String

    public init(at: Double, heatpumpID: String?, kind: String, message: String = "") {
        self.at = at
        self.heatpumpID = heatpumpID
        self.kind = kind
        self.message = message
    }
}

/// A row of the `alerts` table.
public struct StoredAlert: Sendable, Hashable {
    public var rule: String
    public var heatpumpID: String
    public var severity: String
    public var raisedAt: Double
    public var resolvedAt: Double?
    public var value: Double?
    public var message: String
}

/// One point of a register's history.
public struct HistoryPoint: Sendable, Hashable {
    public var at: Double
    public var value: Double
}
