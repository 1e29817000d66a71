import Foundation
import HPCore

/// What a channel sends for one message, built at send time (pure: no I/O, secrets passed in).
enum NotificationRequest: Equatable {
    case http(url: String, headers: [String], body: [UInt8])
    case mail(from: String, to: [String], message: [UInt8])

    /// The request `channel` makes for `notification` (outbox row `id`, sent at `now`).
    static func build(_ notification: AlertNotification, id: Int64, channel: NotifyChannel, token: String?, now: Double,
                      version: String) throws -> NotificationRequest {
        var headers = ["User-Agent: hpmanager/\(version)", "X-Hpmanager-AlertNotification-Id: \(id)"]
            + channel.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        switch channel.kind {
        case .webhook:
            if let token { headers.append("Authorization: Bearer \(token)") }
            let body = WebhookBody(receiver: channel.name, status: notification.status, route: notification.route, groupKey: notification.groupKey,
                                   groupLabels: notification.groupLabels, title: notification.title, message: notification.text,
                                   severity: notification.severity, alerts: notification.firing + notification.resolved, id: id)
            return .http(url: channel.url, headers: headers + ["Content-Type: application/json"], body: Array(try encoder.encode(body)))
        case .ntfy:
            if let token { headers.append("Authorization: Bearer \(token)") }
            let priority = channel.priority ?? (notification.firing.isEmpty ? 3 : ["critical": 5, "warning": 4][notification.severity] ?? 3)
            let tags = [notification.firing.isEmpty ? "white_check_mark" : (notification.severity == "critical" ? "rotating_light" : "warning")] + channel.tags
            headers += ["Title: \(encodedWord(notification.title))", "Priority: \(priority)", "Tags: \(encodedWord(tags.map(headerSafe).joined(separator: ",")))",
                        "Content-Type: text/plain; charset=utf-8"]
            return .http(url: channel.url, headers: headers, body: Array(notification.text.utf8))
        case .gotify:
            if let token { headers.append("X-Gotify-Key: \(token)") }
            let priority = channel.priority ?? (notification.firing.isEmpty ? 2 : ["critical": 8, "warning": 5][notification.severity] ?? 2)
            let body = GotifyBody(title: notification.title, message: notification.text, priority: priority)
            return .http(url: joined(channel.url, "/message"), headers: headers + ["Content-Type: application/json"], body: Array(try encoder.encode(body)))
        case .alertmanager:
            if let token { headers.append("Authorization: Bearer \(token)") }
            let alerts = (notification.firing + notification.resolved).map { a in
                AlertmanagerAlert(labels: ["alertname": a.rule, "severity": a.severity, "heatpump_id": a.heatpumpID, "name": a.name,
                                           "location": a.location, "site": a.site].filter { !$0.value.isEmpty },
                                  annotations: ["summary": "\(a.name.isEmpty ? a.heatpumpID : a.name): \(a.rule)", "description": a.message],
                                  startsAt: AlertNotification.iso(a.startsAt),
                                  // A firing alert stays active until well after the next repeat; a resolved one ends when it resolved.
                                  endsAt: AlertNotification.iso(a.endsAt ?? (now + notification.validFor)))
            }
            return .http(url: joined(channel.url, "/api/v2/alerts"), headers: headers + ["Content-Type: application/json"], body: Array(try encoder.encode(alerts)))
        case .email:
            return .mail(from: channel.from, to: channel.to, message: Array(mail(notification, id: id, channel: channel, now: now).utf8))
        }
    }

    /// An RFC 5322 message (CRLF line ends, UTF-8 subject encoded per RFC 2047, dot-stuffing left to libcurl).
    static func mail(_ n: AlertNotification, id: Int64, channel: NotifyChannel, now: Double) -> String {
        let date = DateFormatter()
        date.locale = Locale(identifier: "en_US_POSIX")
        date.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let domain = channel.from.split(separator: "@").last.map(String.init) ?? "localhost"
        let subject = n.title.allSatisfy(\.isASCII) ? headerSafe(n.title) : "=?UTF-8?B?\(Data(n.title.utf8).base64EncodedString())?="
        let lines = [
            "From: <\(channel.from)>",
            "To: \(channel.to.map { "<\($0)>" }.joined(separator: ", "))",
            "Subject: \(subject)",
            "Date: \(date.string(from: Date(timeIntervalSince1970: now)))",
            "Message-ID: <hpmanager.\(id).\(Int(n.createdAt))@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "X-Hpmanager-Route: \(headerSafe(n.route))",
            "",
        ] + n.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    private static func headerSafe(_ text: String) -> String {
        String(text.map { $0 == "\r" || $0 == "\n" ? " " : $0 })
    }

    /// A header value as ntfy reads non-ASCII text: plain when ASCII, else an RFC 2047 encoded word
    /// (`=?UTF-8?B?…?=`; raw UTF-8 in a header is not portable, and a building is often "Heizraum Süd").
    static func encodedWord(_ text: String) -> String {
        let safe = headerSafe(text)
        guard !safe.unicodeScalars.allSatisfy({ $0.isASCII }) else { return safe }
        return "=?UTF-8?B?" + Data(safe.utf8).base64EncodedString() + "?="
    }

    private static func joined(_ base: String, _ path: String) -> String {
        base.hasSuffix("/") ? String(base.dropLast()) + path : base + path
    }
}

/// The webhook's JSON body (close to Alertmanager's webhook payload, with our alert fields).
struct WebhookBody: Encodable {
    var version = "1"
    var receiver: String
    var status: String
    var route: String
    var groupKey: String
    var groupLabels: [String: String]
    var title: String
    var message: String
    var severity: String
    var alerts: [AlertNotice]
    var id: Int64

    enum CodingKeys: String, CodingKey {
        case version, receiver, status, route, title, message, severity, alerts, id
        case groupKey = "group_key", groupLabels = "group_labels"
    }
}

struct GotifyBody: Encodable {
    var title: String
    var message: String
    var priority: Int
}

/// One element of Alertmanager's `POST /api/v2/alerts` body.
struct AlertmanagerAlert: Encodable {
    var labels: [String: String]
    var annotations: [String: String]
    var startsAt: String
    var endsAt: String
}
