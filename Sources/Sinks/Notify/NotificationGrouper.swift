import Foundation
import HPCore

/// Routing and grouping as a pure state machine over alert notices and time (no I/O, no clock),
/// with Alertmanager's semantics: a group's first message waits `group_wait` to collect the
/// alerts that come up together (five devices of one building going dark are one message), later
/// changes wait `group_interval`, an unchanged firing group is repeated every `repeat_interval`,
/// and resolved alerts are reported once (`send_resolved`). Quiet hours hold a due message back
/// until the window ends (critical ones pass when `critical_bypass` is set).
public struct NotificationGrouper: Sendable {
    struct Group {
        var route: NotifyRoute
        var labels: [(String, String)]
        var alerts: [String: AlertNotice] = [:]
        /// Alerts whose firing was part of a message (only these get a resolve message).
        var notified: Set<String> = []
        var createdAt: Double
        var lastFlush: Double?
        var changed = false

        var key: String { labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",") }
    }

    public private(set) var routes: [NotifyRoute]
    public let localZone: TimeZone
    private var groups: [String: Group] = [:]
    /// Every alert firing now, whichever routes it matched: a route added by a reload picks them up.
    private var firing: [String: AlertNotice] = [:]

    public init(routes: [NotifyRoute], localZone: TimeZone = .current) {
        self.routes = routes
        self.localZone = localZone
    }

    /// Groups holding alerts (firing, or resolved and not yet reported).
    public var groupCount: Int { groups.count }

    /// Routes an alert goes to: the first match, and further ones after a match with `continue: true`.
    public func routes(for notice: AlertNotice) -> [NotifyRoute] {
        var result: [NotifyRoute] = []
        for route in routes where route.matches(severity: notice.severity, location: notice.location, site: notice.site, rule: notice.rule) {
            result.append(route)
            if !route.continueMatching { break }
        }
        return result
    }

    public mutating func observe(_ notice: AlertNotice, now: Double) {
        firing[notice.key] = notice.isResolved ? nil : notice
        for route in routes(for: notice) {
            add(notice, to: route, now: now)
        }
        groups = groups.filter { !$0.value.alerts.isEmpty }
    }

    /// New routes from a reload. Groups of routes that are unchanged (same name, same settings) keep
    /// their state, so nothing is announced twice; each keeps only the alerts that still route to it.
    /// Groups of removed routes end without a message. Routes that are new or changed start afresh
    /// from the alerts firing now: they announce them after their `group_wait`, as Alertmanager does
    /// when a reload regroups alerts.
    public mutating func replaceRoutes(_ new: [NotifyRoute], now: Double) {
        let old = Dictionary(routes.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let unchanged = Set(new.filter { old[$0.name] == $0 }.map(\.name))
        routes = new
        var kept: [String: Group] = [:]
        for (id, var group) in groups where unchanged.contains(group.route.name) {
            group.route = new.first { $0.name == group.route.name } ?? group.route
            group.alerts = group.alerts.filter { entry in
                // A resolve waiting to be reported stays with the group that announced the alert.
                entry.value.isResolved || routes(for: entry.value).contains { $0.name == group.route.name }
            }
            group.notified = group.notified.filter { group.alerts[$0] != nil }
            if !group.alerts.isEmpty { kept[id] = group }
        }
        groups = kept
        for notice in firing.values.sorted(by: { $0.key < $1.key }) {
            var fresh = notice
            fresh.restored = false  // new to this route: announced there
            for route in routes(for: notice) where !unchanged.contains(route.name) {
                add(fresh, to: route, now: now)
            }
        }
        groups = groups.filter { !$0.value.alerts.isEmpty }
    }

    private mutating func add(_ notice: AlertNotice, to route: NotifyRoute, now: Double) {
        let labels = route.groupBy.map { ($0, notice.label($0)) }
        let id = route.name + "|" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        var group = groups[id] ?? Group(route: route, labels: labels, createdAt: now)
        var notice = notice
        if notice.isResolved {
            guard let raised = group.alerts[notice.key] else { return }
            // A resolve carries only the rule and device: the alert keeps what it was raised with.
            notice.startsAt = raised.startsAt
            notice.message = raised.message
            notice.value = raised.value
            if group.notified.contains(notice.key) && route.sendResolved {
                group.alerts[notice.key] = notice
                group.changed = true
            } else {
                group.alerts[notice.key] = nil  // never announced: nothing to take back
            }
        } else if notice.restored {
            // Open since before a restart: announced then (as far as anyone knows), so it is not
            // announced again; its resolve will be, and its repeat counts from now.
            group.alerts[notice.key] = notice
            group.notified.insert(notice.key)
            if group.lastFlush == nil { group.lastFlush = now }
        } else {
            if group.alerts[notice.key]?.isResolved != false || !group.notified.contains(notice.key) { group.changed = true }
            group.alerts[notice.key] = notice
        }
        groups[id] = group
    }

    /// No group open: nothing can become due until a notice arrives or the routes change.
    public var isIdle: Bool { groups.isEmpty }

    /// The messages due at `now`; their groups are marked sent.
    public mutating func due(now: Double) -> [AlertNotification] {
        var out: [AlertNotification] = []
        for id in groups.keys.sorted() {
            guard var group = groups[id] else { continue }
            let route = group.route
            let firing = group.alerts.values.filter { !$0.isResolved }.sorted { ($0.heatpumpID, $0.rule) < ($1.heatpumpID, $1.rule) }
            let resolved = group.alerts.values.filter(\.isResolved).sorted { ($0.heatpumpID, $0.rule) < ($1.heatpumpID, $1.rule) }
            let isDue: Bool
            if let last = group.lastFlush {
                isDue = group.changed ? now >= last + route.groupInterval : (!firing.isEmpty && now >= last + route.repeatInterval)
            } else {
                isDue = now >= group.createdAt + route.groupWait
            }
            guard isDue else { continue }
            let message = AlertNotification(route: route.name, groupKey: group.key, groupLabels: Dictionary(group.labels, uniquingKeysWith: { a, _ in a }),
                                       firing: firing, resolved: route.sendResolved ? resolved : [], createdAt: now,
                                       validFor: max(3 * route.repeatInterval, 300))
            if let quiet = route.quietHours, quiet.holds(severity: message.severity, at: now, localZone: localZone) { continue }
            if !message.firing.isEmpty || !message.resolved.isEmpty { out.append(message) }
            group.lastFlush = now
            group.changed = false
            group.notified = Set(firing.map(\.key))
            for alert in resolved { group.alerts[alert.key] = nil }
            groups[id] = group.alerts.isEmpty ? nil : group
        }
        return out
    }
}
