import HPCore

/// One alert change as notifications see it: the alert, the device's labels, and whether it was
/// raised or resolved.
public struct AlertNotice: Sendable, Hashable, Codable {
    public var rule: String
    public var severity: String
    public var heatpumpID: String
    public var name: String
    public var location: String
    public var site: String
    public var message: String
    public var value: Double?
    public var startsAt: Double
    /// Set once the alert is resolved.
    public var endsAt: Double?
    /// Open since before a restart: taken as already announced (not part of the encoded form).
    public var restored = false

    public init(rule: String, severity: String, heatpumpID: String, name: String, location: String, site: String,
                message: String, value: Double? = nil, startsAt: Double, endsAt: Double? = nil, restored: Bool = false) {
        self.rule = rule
        self.severity = severity
        self.heatpumpID = heatpumpID
        self.name = name
        self.location = location
        self.site = site
        self.message = message
        self.value = value
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.restored = restored
    }

    public var isResolved: Bool { endsAt != nil }

    /// The alert's identity: one rule on one device.
    public var key: String { "\(rule)/\(heatpumpID)" }

    /// The value of a `group_by` label.
    public func label(_ name: String) -> String {
        switch name {
        case "alert": rule
        case "location": location
        case "site": site
        case "severity": severity
        case "heatpump_id": heatpumpID
        default: ""
        }
    }

    enum CodingKeys: String, CodingKey {
        case rule, severity, name, location, site, message, value
        case heatpumpID = "heatpump_id", startsAt = "starts_at", endsAt = "ends_at"
    }
}
