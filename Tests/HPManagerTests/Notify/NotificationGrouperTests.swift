import Foundation
import HPCore
import Sinks
import Testing

@Suite("AlertNotification routing and grouping: one message per building, group_interval, repeat, resolve, quiet hours (injected time)", .harnessThreads)
struct NotificationGrouperTests {
    static func notice(_ id: String, location: String = "Building A", rule: String = "offline", severity: String = "warning",
                       at: Double, resolved: Bool = false) -> AlertNotice {
        AlertNotice(rule: rule, severity: severity, heatpumpID: id, name: "HP \(id)", location: location, site: "north",
                    message: resolved ? "" : "no answer for 60 s", startsAt: at, endsAt: resolved ? at : nil)
    }

    static func route(_ name: String = "all", wait: Double = 30, interval: Double = 300, repeatAfter: Double = 3600,
                      quiet: QuietHours? = nil) -> NotifyRoute {
        var r = NotifyRoute(name: name)
        r.channels = ["hook"]
        r.groupWait = wait
        r.groupInterval = interval
        r.repeatInterval = repeatAfter
        r.quietHours = quiet
        return r
    }

    @Test("five devices of one building going offline together are one message naming all five; another building is its own")
    func oneMessagePerBuilding() {
        var g = NotificationGrouper(routes: [Self.route()], localZone: TimeZone(identifier: "UTC")!)
        let t0 = 1_000_000.0
        for (i, id) in ["hp1", "hp2", "hp3", "hp4", "hp5"].enumerated() { g.observe(Self.notice(id, at: t0 + Double(i)), now: t0 + Double(i)) }
        g.observe(Self.notice("hp9", location: "Building B", at: t0 + 2), now: t0 + 2)
        #expect(g.due(now: t0 + 29).isEmpty)  // group_wait collects
        let sent = g.due(now: t0 + 32)
        #expect(sent.count == 2)
        let a = sent.first { $0.groupLabels["location"] == "Building A" }
        #expect(a?.firing.map(\.heatpumpID) == ["hp1", "hp2", "hp3", "hp4", "hp5"])
        #expect(a?.title.contains("HP hp1, HP hp2, HP hp3, HP hp4, HP hp5") == true)
        #expect(a?.groupKey == "location=\"Building A\",alert=\"offline\"")
        #expect(g.due(now: t0 + 33).isEmpty)  // nothing new: nothing sent
    }

    @Test("an alert joining a notified group waits group_interval; an unchanged group repeats after repeat_interval; resolves are sent once")
    func intervalsRepeatResolve() {
        var g = NotificationGrouper(routes: [Self.route(wait: 10, interval: 60, repeatAfter: 600)])
        let t0 = 0.0
        g.observe(Self.notice("hp1", at: t0), now: t0)
        #expect(g.due(now: 10).map(\.firing.count) == [1])
        g.observe(Self.notice("hp2", at: 20), now: 20)
        #expect(g.due(now: 69).isEmpty)
        #expect(g.due(now: 70).map { $0.firing.map(\.heatpumpID) } == [["hp1", "hp2"]])
        #expect(g.due(now: 669).isEmpty)
        let repeated = g.due(now: 670)
        #expect(repeated.map(\.firing.count) == [2] && repeated.first?.resolved.isEmpty == true)
        g.observe(Self.notice("hp1", at: 700, resolved: true), now: 700)
        let afterResolve = g.due(now: 730)
        #expect(afterResolve.map { $0.firing.map(\.heatpumpID) } == [["hp2"]])
        #expect(afterResolve.first?.resolved.map(\.heatpumpID) == ["hp1"] && afterResolve.first?.resolved.first?.startsAt == 0)
        g.observe(Self.notice("hp2", at: 800, resolved: true), now: 800)
        let last = g.due(now: 800 + 60)
        #expect(last.map(\.status) == ["resolved"] && last.first?.resolved.map(\.heatpumpID) == ["hp2"])
        #expect(g.groupCount == 0)
    }

    @Test("an alert raised and resolved within group_wait sends nothing")
    func flapInsideGroupWait() {
        var g = NotificationGrouper(routes: [Self.route(wait: 30)])
        g.observe(Self.notice("hp1", at: 0), now: 0)
        g.observe(Self.notice("hp1", at: 5, resolved: true), now: 5)
        #expect(g.due(now: 40).isEmpty && g.groupCount == 0)
    }

    @Test("routes match by severity and location; the first match wins unless it continues")
    func routing() {
        var critical = Self.route("critical")
        critical.severities = ["critical"]
        critical.locations = ["Building A"]
        var rest = Self.route("rest")
        rest.channels = ["mail"]
        let g = NotificationGrouper(routes: [critical, rest])
        #expect(g.routes(for: Self.notice("hp1", severity: "critical", at: 0)).map(\.name) == ["critical"])
        #expect(g.routes(for: Self.notice("hp1", location: "Building B", severity: "critical", at: 0)).map(\.name) == ["rest"])
        critical.continueMatching = true
        #expect(NotificationGrouper(routes: [critical, rest]).routes(for: Self.notice("hp1", severity: "critical", at: 0)).map(\.name) == ["critical", "rest"])
    }

    /// 2024-01-15 was a Monday; times in UTC.
    static let monday = 1_705_276_800.0

    @Test("quiet hours 22:00-07:00 (spanning midnight, Monday start) hold messages until the window ends; critical bypasses when configured")
    func quietHours() {
        let utc = TimeZone(identifier: "UTC")!
        let quiet = QuietHours(start: 22 * 60, end: 7 * 60, weekdays: [2], timezone: "", criticalBypass: true)
        #expect(quiet.contains(Self.monday + 23 * 3600, localZone: utc))          // Mon 23:00
        #expect(quiet.contains(Self.monday + 30 * 3600, localZone: utc))          // Tue 06:00, window began Monday
        #expect(!quiet.contains(Self.monday + 31 * 3600, localZone: utc))         // Tue 07:00
        #expect(!quiet.contains(Self.monday + 47 * 3600, localZone: utc))         // Tue 23:00: not a Monday window
        #expect(!quiet.contains(Self.monday + 12 * 3600, localZone: utc))         // Mon noon
        let berlin = QuietHours(start: 22 * 60, end: 7 * 60, timezone: "Europe/Berlin")
        #expect(berlin.contains(Self.monday + 21.5 * 3600, localZone: utc))        // 22:30 in Berlin (UTC+1)

        var g = NotificationGrouper(routes: [Self.route(wait: 10, repeatAfter: 86400, quiet: quiet)], localZone: utc)
        let night = Self.monday + 23 * 3600
        g.observe(Self.notice("hp1", at: night), now: night)
        g.observe(Self.notice("hp7", location: "Building C", severity: "critical", at: night), now: night)
        let duringNight = g.due(now: night + 20)
        #expect(duringNight.map { $0.firing.map(\.heatpumpID) } == [["hp7"]])   // critical bypasses
        #expect(g.due(now: Self.monday + 30.9 * 3600).isEmpty)                  // 06:54: still quiet
        let morning = g.due(now: Self.monday + 31 * 3600)                        // 07:00: the held warning goes out
        #expect(morning.map { $0.firing.map(\.heatpumpID) } == [["hp1"]])
    }

    @Test("a reload's routes: unchanged routes keep their groups (nothing announced twice), a new route announces what fires now, a removed one ends silently")
    func replaceRoutes() {
        var g = NotificationGrouper(routes: [Self.route(wait: 10, interval: 60, repeatAfter: 3600)])
        g.observe(Self.notice("hp1", at: 0), now: 0)
        g.observe(Self.notice("hp2", location: "Building B", at: 0), now: 0)
        #expect(g.due(now: 10).count == 2)
        // Reload: "all" unchanged; a new route for critical and warning alerts of Building B.
        var buildingB = Self.route("building-b", wait: 5)
        buildingB.locations = ["Building B"]
        buildingB.continueMatching = false
        var all = Self.route(wait: 10, interval: 60, repeatAfter: 3600)
        all.continueMatching = true
        g.replaceRoutes([all, buildingB], now: 20)
        // "all" changed (continue: true): it starts afresh and announces both again after its wait; building-b announces hp2.
        let afterChange = g.due(now: 30)
        #expect(afterChange.map(\.route).sorted() == ["all", "all", "building-b"], "\(afterChange.map(\.route))")
        #expect(afterChange.first { $0.route == "building-b" }?.firing.map(\.heatpumpID) == ["hp2"])
        // The same routes again: nothing is announced twice.
        g.replaceRoutes([all, buildingB], now: 40)
        #expect(g.due(now: 100).isEmpty, "unchanged routes keep their state")
        // building-b removed: its group ends without a message; hp2 resolving reaches "all" only.
        g.replaceRoutes([all], now: 110)
        g.observe(Self.notice("hp2", location: "Building B", at: 120, resolved: true), now: 120)
        let resolved = g.due(now: 200)
        #expect(resolved.map(\.route) == ["all"] && resolved.first?.resolved.map(\.heatpumpID) == ["hp2"])
        // A resolved alert is no longer firing: a route added later does not announce it.
        var late = Self.route("late", wait: 0)
        late.locations = ["Building B"]
        g.replaceRoutes([all, late], now: 300)
        #expect(g.due(now: 301).isEmpty)
        // Routes emptied (notify turned off): every group ends.
        g.replaceRoutes([], now: 400)
        #expect(g.groupCount == 0 && g.due(now: 5000).isEmpty)
    }

    @Test("an alert open since before a restart is taken as announced: no message for it, its resolve is sent, its repeat counts from the restart")
    func restoredAlert() {
        var g = NotificationGrouper(routes: [Self.route(wait: 10, interval: 60, repeatAfter: 600)])
        var open = Self.notice("hp1", at: 0)
        open.restored = true
        g.observe(open, now: 1000)
        #expect(g.due(now: 1100).isEmpty, "not announced again after the restart")
        #expect(g.due(now: 1600).map { $0.firing.map(\.heatpumpID) } == [["hp1"]], "repeated after repeat_interval from the restart")
        g.observe(Self.notice("hp1", at: 1700, resolved: true), now: 1700)
        let resolved = g.due(now: 1760)
        #expect(resolved.map(\.status) == ["resolved"] && resolved.first?.resolved.first?.startsAt == 0, "resolved, with its original start")
        // A new alert joining a restored group is announced (after group_interval) with it.
        var other = Self.notice("hp2", at: 0)
        other.restored = true
        g.observe(other, now: 2000)
        g.observe(Self.notice("hp3", at: 2010), now: 2010)
        #expect(g.due(now: 2059).isEmpty)
        #expect(g.due(now: 2060).map { $0.firing.map(\.heatpumpID) } == [["hp2", "hp3"]])
    }
}
