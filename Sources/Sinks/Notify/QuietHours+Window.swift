import Foundation
import HPCore

extension QuietHours {
    /// True when `time` (Unix seconds) falls inside the window, in the window's time zone (the
    /// daemon's local one when unset). A window spanning midnight belongs to the day it starts on.
    public func contains(_ time: Double, localZone: TimeZone = .current) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timezone.isEmpty ? localZone : (TimeZone(identifier: timezone) ?? localZone)
        let parts = calendar.dateComponents([.hour, .minute, .weekday], from: Date(timeIntervalSince1970: time))
        guard let hour = parts.hour, let minute = parts.minute, let weekday = parts.weekday else { return false }
        let now = hour * 60 + minute
        let yesterday = weekday == 1 ? 7 : weekday - 1
        func startsOn(_ day: Int) -> Bool { weekdays.isEmpty || weekdays.contains(day) }
        if start < end { return now >= start && now < end && startsOn(weekday) }
        return (now >= start && startsOn(weekday)) || (now < end && startsOn(yesterday))
    }

    /// Whether a message of this severity is held back at `time`.
    public func holds(severity: String, at time: Double, localZone: TimeZone = .current) -> Bool {
        if criticalBypass && severity == "critical" { return false }
        return contains(time, localZone: localZone)
    }
}
