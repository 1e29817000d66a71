import Foundation

/// One message a route decided to send: the alerts of one group that fire, and those resolved
/// since the group's last message.
public struct AlertNotification: Sendable, Hashable, Codable {
    public var route: String
    /// `location="Building A",alert="offline"` (the route's `group_by` labels and values).
    public var groupKey: String
    public var groupLabels: [String: String]
    public var firing: [AlertNotice]
    public var resolved: [AlertNotice]
    public var createdAt: Double
    /// Seconds a receiver that expires alerts (Alertmanager) should keep the firing ones: until
    /// well after the next repeat.
    public var validFor: Double

    /// `firing` while any alert of the group fires.
    public var status: String { firing.isEmpty ? "resolved" : "firing" }

    /// The highest severity among the alerts (critical > warning > info).
    public var severity: String {
        let all = (firing.isEmpty ? resolved : firing).map(\.severity)
        for s in ["critical", "warning", "info"] where all.contains(s) { return s }
        return all.first ?? "info"
    }
}

extension AlertNotification {
    enum CodingKeys: String, CodingKey {
        case route, firing, resolved
        case groupKey = "group_key", groupLabels = "group_labels", createdAt = "created_at", validFor = "valid_for"
    }

    /// A one-line subject: `[FIRING:5] offline - Building A (hp1, hp2, hp3, ...)` (ASCII, so mail subjects need no encoding).
    public var title: String {
        let alerts = firing.isEmpty ? resolved : firing
        let rules = Set(alerts.map(\.rule)).sorted().joined(separator: ", ")
        let places = Set(alerts.map(\.location).filter { !$0.isEmpty }).sorted().joined(separator: ", ")
        let names = alerts.prefix(5).map { $0.name.isEmpty ? $0.heatpumpID : $0.name }.joined(separator: ", ") + (alerts.count > 5 ? ", ..." : "")
        let head = firing.isEmpty ? "[RESOLVED]" : "[FIRING:\(firing.count)]"
        return "\(head) \(rules)\(places.isEmpty ? "" : " - \(places)") (\(names))"
    }

    /// The plain-text message: every firing and resolved alert on its own line.
    public var text: String {
        var lines: [String] = []
        if !firing.isEmpty {
            lines.append("Firing (\(firing.count)):")
            for a in firing { lines.append("- \(a.name.isEmpty ? a.heatpumpID : a.name) [\(a.heatpumpID)] \(a.location.isEmpty ? "" : "at \(a.location) ")— \(a.rule) (\(a.severity)): \(a.message), since \(Self.iso(a.startsAt))") }
        }
        if !resolved.isEmpty {
            if !lines.isEmpty { lines.append("") }
            lines.append("Resolved (\(resolved.count)):")
            for a in resolved { lines.append("- \(a.name.isEmpty ? a.heatpumpID : a.name) [\(a.heatpumpID)] — \(a.rule), resolved \(Self.iso(a.endsAt ?? createdAt))") }
        }
        return lines.joined(separator: "\n")
    }

    static func iso(_ time: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: time))
    }
}
