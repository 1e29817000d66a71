/// `display.yml`: how the web console shows each heat pump (HPManager's dashboard settings).
///
/// Defaults and ranges are HPManager's (`refresh_interval` 5-120 s, default 10; `sparkline_minutes`
/// 5-480, default 30), so a file valid here is valid for HPManager's web app and vice versa.
public struct DisplaySettings: Sendable, Hashable {
    /// Seconds between dashboard refreshes.
    public var refreshInterval = 10
    /// Time window of the sparkline graphs, in minutes.
    public var sparklineMinutes = 30
    /// Per heat pump overrides of `sparklineMinutes`.
    public var sparklineMinutesPerPump: [String: Int] = [:]
    /// Heat pump id → the register (or named bit) names its dashboard card shows, in order.
    public var visibleFields: [String: [String]] = [:]

    public init() {}

    /// The fields to show for `heatpumpID`, or nil when display.yml does not list it (use a default).
    public func visibleFields(for heatpumpID: String) -> [String]? {
        visibleFields[heatpumpID]
    }

    /// The sparkline window for `heatpumpID`.
    public func sparklineMinutes(for heatpumpID: String) -> Int {
        sparklineMinutesPerPump[heatpumpID] ?? sparklineMinutes
    }
}
