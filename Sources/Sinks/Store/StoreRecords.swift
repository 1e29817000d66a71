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

/// A row of `eeprom_writes`.
public struct StoredEEPROMWrite: Sendable, Hashable {
    public var heatpumpID: String
    public var register: String
    public var at: Double
}

/// A row of `cyclic_writes`: a value that is wanted until cleared.
public struct StoredCyclicWrite: Sendable, Hashable {
    public var heatpumpID: String
    public var register: String
    public var value: String
    public var setAt: Double
    public var client: String

    public init(heatpumpID: String, register: String, value: String, setAt: Double, client: String) {
        self.heatpumpID = heatpumpID
        self.register = register
        self.value = value
        self.setAt = setAt
        self.client = client
    }
}

/// A row of `write_jobs`.
public struct StoredWriteJob: Sendable, Hashable {
    public var id: Int64
    public var heatpumpID: String
    public var register: String
    public var value: String
    public var days: String
    public var time: String
    public var createdAt: Double
    public var client: String
    public var lastRun: Double?
}
