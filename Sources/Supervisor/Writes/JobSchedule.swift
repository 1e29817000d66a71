import Foundation

/// When a scheduled write fires: days of the week plus a local time of day, systemd
/// `OnCalendar=Mon..Fri 06:00` style. Written `mon-fri 06:00`, `daily 21:30`, `sat,sun 08:00:30`,
/// `weekdays 06:00`, `weekend 09:00`. Times are the daemon's local time (its `TZ`).
public struct JobSchedule: Sendable, Hashable, CustomStringConvertible {
    /// Calendar weekdays: 1 = Sunday … 7 = Saturday (Foundation's numbering).
    public var weekdays: Set<Int>
    public var hour: Int
    public var minute: Int
    public var second: Int

    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
    static let fullDayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `days` (`daily`, `weekdays`, `weekend`, `mon-fri`, `mon,wed,fri`, names of three or more
    /// letters) and `time` (`HH:MM` or `HH:MM:SS`, 24-hour).
    public init(days: String, time: String) throws {
        weekdays = try Self.parseDays(days)
        let parts = time.trimmingCharacters(in: .whitespaces).split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(parts.count), parts.allSatisfy({ (1...2).contains($0.count) && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let h = Int(parts[0]), let m = Int(parts[1]), let s = parts.count == 3 ? Int(parts[2]) : 0,
              (0...23).contains(h), (0...59).contains(m), (0...59).contains(s) else {
            throw Invalid(description: "time must be HH:MM or HH:MM:SS (24-hour, local time), found \"\(time)\"")
        }
        hour = h
        minute = m
        second = s
    }

    static func parseDays(_ text: String) throws -> Set<Int> {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch lower {
        case "daily", "every day", "*", "": return Set(1...7)
        case "weekdays", "weekday": return Set(2...6)
        case "weekend", "weekends": return [1, 7]
        default: break
        }
        var days = Set<Int>()
        for item in lower.split(separator: ",") {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(bounds.count) else { throw invalidDays(text) }
            let indices = try bounds.map { name -> Int in
                guard name.count >= 3, let i = fullDayNames.firstIndex(where: { $0.hasPrefix(name) }) else {
                    throw invalidDays(text)
                }
                return i
            }
            if indices.count == 1 {
                days.insert(indices[0] + 1)
            } else {
                // mon-fri, fri-mon (wraps over the week end)
                var i = indices[0]
                while true {
                    days.insert(i + 1)
                    if i == indices[1] { break }
                    i = (i + 1) % 7
                }
            }
        }
        guard !days.isEmpty else { throw invalidDays(text) }
        return days
    }

    static func invalidDays(_ text: String) -> Invalid {
        Invalid(description: "days must be daily, weekdays, weekend or day names like mon-fri or sat,sun, found \"\(text)\"")
    }

    /// The first firing strictly after `date`.
    public func next(after date: Date, calendar: Calendar) -> Date? {
        let start = calendar.startOfDay(for: date)
        for offset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: start),
                  weekdays.contains(calendar.component(.weekday, from: day)),
                  let at = calendar.date(bySettingHour: hour, minute: minute, second: second, of: day), at > date else { continue }
            return at
        }
        return nil
    }

    /// The last firing at or before `date` (to tell whether a run was missed while the daemon was down).
    public func previous(atOrBefore date: Date, calendar: Calendar) -> Date? {
        let start = calendar.startOfDay(for: date)
        for offset in 0...7 {
            guard let day = calendar.date(byAdding: .day, value: -offset, to: start),
                  weekdays.contains(calendar.component(.weekday, from: day)),
                  let at = calendar.date(bySettingHour: hour, minute: minute, second: second, of: day), at <= date else { continue }
            return at
        }
        return nil
    }

    /// Canonical days text: `daily`, `weekdays`, `weekend` or day names in week order.
    public var daysText: String {
        switch weekdays {
        case Set(1...7): "daily"
        case Set(2...6): "weekdays"
        case [1, 7]: "weekend"
        default: [2, 3, 4, 5, 6, 7, 1].filter(weekdays.contains).map { Self.dayNames[$0 - 1] }.joined(separator: ",")
        }
    }

    public var timeText: String {
        second == 0 ? String(format: "%02d:%02d", hour, minute) : String(format: "%02d:%02d:%02d", hour, minute, second)
    }

    public var description: String { "\(daysText) \(timeText)" }
}
