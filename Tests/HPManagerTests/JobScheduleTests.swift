import Foundation
import Supervisor
import Testing

/// Scheduled writes' calendar: days of the week + local time, next and previous firing.
@Suite("Job schedules", .harnessThreads)
struct JobScheduleTests {
    static var utc: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC") ?? c.timeZone
        return c
    }

    /// 2026-12-01 is a Tuesday.
    static func at(_ text: String) -> Date {
        let f = ISO8601DateFormatter()
        return f.date(from: text) ?? .distantPast
    }

    struct Case: Sendable, CustomStringConvertible {
        var days: String
        var time: String
        var after: String
        var next: String
        var description: String { "\(days) \(time) after \(after)" }
    }

    static let cases: [Case] = [
        Case(days: "mon-fri", time: "06:00", after: "2026-12-01T05:59:59Z", next: "2026-12-01T06:00:00Z"),
        Case(days: "mon-fri", time: "06:00", after: "2026-12-01T06:00:00Z", next: "2026-12-02T06:00:00Z"),
        Case(days: "weekdays", time: "06:00", after: "2026-12-04T07:00:00Z", next: "2026-12-07T06:00:00Z"),
        Case(days: "weekend", time: "09:30", after: "2026-12-01T00:00:00Z", next: "2026-12-05T09:30:00Z"),
        Case(days: "sat,sun", time: "09:30", after: "2026-12-05T10:00:00Z", next: "2026-12-06T09:30:00Z"),
        Case(days: "fri-mon", time: "22:15:30", after: "2026-12-01T00:00:00Z", next: "2026-12-04T22:15:30Z"),
        Case(days: "daily", time: "0:05", after: "2026-12-31T23:59:00Z", next: "2027-01-01T00:05:00Z"),
        Case(days: "Tuesday", time: "12:00", after: "2026-12-01T12:00:01Z", next: "2026-12-08T12:00:00Z"),
    ]

    @Test("next firing", arguments: cases)
    func next(_ c: Case) throws {
        let schedule = try JobSchedule(days: c.days, time: c.time)
        #expect(schedule.next(after: Self.at(c.after), calendar: Self.utc) == Self.at(c.next))
    }

    @Test("previous firing and canonical text")
    func previousAndText() throws {
        let schedule = try JobSchedule(days: "Mon-Fri", time: "06:00")
        #expect(schedule.previous(atOrBefore: Self.at("2026-12-06T12:00:00Z"), calendar: Self.utc) == Self.at("2026-12-04T06:00:00Z"))
        #expect(schedule.description == "weekdays 06:00")
        #expect(try JobSchedule(days: "sun,mon,wed", time: "7:00:05").description == "mon,wed,sun 07:00:05")
    }

    @Test("invalid days and times are refused with what was expected",
          arguments: [("mon-fry", "06:00", "days must be"), ("someday", "06:00", "days must be"), ("mo", "06:00", "days must be"),
                      ("daily", "24:00", "time must be HH:MM"), ("daily", "6", "time must be HH:MM"), ("daily", "06:60", "time must be"),
                      ("daily", "06:00:00:00", "time must be"), ("daily", "+6:00", "time must be")])
    func invalid(_ days: String, _ time: String, _ fragment: String) {
        do {
            _ = try JobSchedule(days: days, time: time)
            Issue.record("\(days) \(time) accepted")
        } catch {
            #expect("\(error)".contains(fragment), "\(error)")
        }
    }
}
