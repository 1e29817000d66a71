import HPCore

/// `GET /api/console`: display.yml as the web console reads it (HPManager's keys).
struct ConsoleDisplay: Encodable, Sendable {
    var refreshInterval: Int
    var sparklineMinutes: Int
    var sparklineMinutesPerPump: [String: Int]
    var visibleFields: [String: [String]]

    init(_ d: DisplaySettings) {
        refreshInterval = d.refreshInterval
        sparklineMinutes = d.sparklineMinutes
        sparklineMinutesPerPump = d.sparklineMinutesPerPump
        visibleFields = d.visibleFields
    }

    enum CodingKeys: String, CodingKey {
        case refreshInterval = "refresh_interval", sparklineMinutes = "sparkline_minutes"
        case sparklineMinutesPerPump = "sparkline_minutes_per_pump", visibleFields = "visible_fields"
    }
}
