/// An alert rule from `collector.yml` `alerts:`.
public struct AlertRule: Sendable, Hashable {
    public enum Condition: Sendable, Hashable {
        /// The register's value is above / below the threshold.
        case above(register: String, threshold: Double)
        case below(register: String, threshold: Double)
        /// The device has not answered for `duration`.
        case offline
        /// More than this fraction of polls failed within `window` seconds.
        case errorRate(threshold: Double, window: Double)
        /// The device answers but every register it should read is refused (`DeviceState.misconfigured`).
        case misconfigured
        /// The device's anomaly detector is alerting (`derived: anomaly:`; its own threshold, warm-up and hysteresis).
        case anomaly
    }

    /// Always evaluated, whatever `alerts:` holds: a device that answers with nothing but Illegal
    /// Data Address is wrongly configured (model, unit id, address offset) and needs a person.
    public static let builtIn = [
        AlertRule(name: "misconfigured", condition: .misconfigured, severity: "critical"),
        // Only devices whose model declares `derived: anomaly:` report a verdict.
        AlertRule(name: "anomaly", condition: .anomaly, severity: "warning"),
        // `heatpump_short_cycling` (derived: compressor:) has its own hysteresis: the alert follows it.
        AlertRule(name: "short_cycling", condition: .above(register: DerivedSeries.shortCycling, threshold: 0.5), severity: "warning"),
    ]

    public var name: String
    public var condition: Condition
    /// Seconds the condition must hold before the alert is raised.
    public var duration: Double
    /// Margin the value must move back past the threshold before the alert resolves.
    public var hysteresis: Double
    public var severity: String
    /// Devices the rule applies to; empty means all.
    public var heatpumps: [String]

    public init(name: String, condition: Condition, duration: Double = 0, hysteresis: Double = 0,
                severity: String = "warning", heatpumps: [String] = []) {
        self.name = name
        self.condition = condition
        self.duration = duration
        self.hysteresis = hysteresis
        self.severity = severity
        self.heatpumps = heatpumps
    }

    public func applies(to id: String) -> Bool { heatpumps.isEmpty || heatpumps.contains(id) }
}
