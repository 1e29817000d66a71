import CurlKit
import Foundation
import HPCore
@testable import Sinks
import Testing
import TestSupport

/// Each channel against a real local receiver, through the sender the daemon uses.
@Suite("AlertNotification channels against real receivers: aiosmtpd with STARTTLS, Alertmanager's /api/v2/alerts", .harnessThreads)
struct NotifyDeliveryTests {
    static func notification(resolved: Bool = false, at: Double = Date().timeIntervalSince1970) -> AlertNotification {
        let alert = AlertNotice(rule: "offline", severity: "critical", heatpumpID: "hp1", name: "Boiler room", location: "Building A", site: "north",
                                message: "no answer for 60 s", startsAt: at - 60, endsAt: resolved ? at : nil)
        return AlertNotification(route: "all", groupKey: "location=\"Building A\"", groupLabels: ["location": "Building A"],
                            firing: resolved ? [] : [alert], resolved: resolved ? [alert] : [], createdAt: at, validFor: 600)
    }

    static func outbox(_ n: AlertNotification, id: Int64 = 7) throws -> OutboxMessage {
        OutboxMessage(id: id, createdAt: n.createdAt, channel: "c", route: n.route, groupKey: n.groupKey, status: n.status, severity: n.severity,
                      title: n.title, body: String(decoding: try JSONEncoder().encode(n), as: UTF8.self), state: "pending", attempts: 0,
                      nextAttemptAt: n.createdAt, lastError: "", doneAt: nil)
    }

    @Test("email: STARTTLS (self-signed cert, verified against ca_file) and AUTH with the password from password_file; no STARTTLS offered -> not sent in the clear")
    func emailStartTLS() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-smtp")
        let (cert, key) = try NotifyReceivers.selfSigned(in: dir)
        try FileManager.default.createDirectory(atPath: dir.file("mail"), withIntermediateDirectories: true)
        let port = try freeLoopbackPort()
        let server = try NotifyReceivers.smtp(port: port, outdir: dir.file("mail"), tls: (cert, key, "hpm", "pa55-word"))
        defer { server.stop() }
        try dir.write("smtp.password", "pa55-word\n")
        var channel = NotifyChannel(name: "mail", kind: .email, url: "smtp://127.0.0.1:\(port)")
        channel.from = "hpmanager@example.org"
        channel.to = ["ops@example.org", "facility@example.org"]
        channel.username = "hpm"
        channel.passwordFile = dir.file("smtp.password")
        channel.caFile = cert
        channel.starttls = true
        channel.timeout = 10
        let sender = ChannelSender(channel: channel, version: "test", shouldAbort: { false })
        let outcome = sender.deliver(try Self.outbox(Self.notification()), now: Date().timeIntervalSince1970)
        #expect(outcome.kind == .delivered, "\(outcome.error)\n\(server.stderr.transcript.joined(separator: "\n"))")
        let mail = try String(contentsOfFile: dir.file("mail/1.eml"), encoding: .utf8)
        #expect(mail.contains("X-Envelope-To: ops@example.org,facility@example.org"))
        #expect(mail.contains("Subject: [FIRING:1] offline"))
        #expect(mail.contains("Boiler room [hp1] at Building A"))

        // A wrong password is refused by the server (535): reported without the password.
        try dir.write("smtp.password", "wrong-secret")
        let refused = sender.deliver(try Self.outbox(Self.notification()), now: Date().timeIntervalSince1970)
        #expect(refused.kind != .delivered && !refused.error.contains("wrong-secret"))

        // A server that offers no STARTTLS: starttls: true must not fall back to plain text.
        let plainPort = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: dir.file("plain"), withIntermediateDirectories: true)
        let plain = try NotifyReceivers.smtp(port: plainPort, outdir: dir.file("plain"), tls: nil)
        defer { plain.stop() }
        var clear = channel
        clear.url = "smtp://127.0.0.1:\(plainPort)"
        clear.username = ""
        clear.passwordFile = ""
        let noTLS = ChannelSender(channel: clear, version: "test", shouldAbort: { false }).deliver(try Self.outbox(Self.notification()), now: Date().timeIntervalSince1970)
        #expect(noTLS.kind == .retry)
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.file("plain"))) ?? []).isEmpty)
    }

    @Test("alertmanager: a firing alert appears in /api/v2/alerts with our labels; the resolve (endsAt) takes it out")
    func alertmanager() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-am")
        let port = try freeLoopbackPort()
        let am = try await NotifyReceivers.startAlertmanager(port: port, dir: dir)
        defer { am.stop() }
        let channel = NotifyChannel(name: "am", kind: .alertmanager, url: "http://127.0.0.1:\(port)")
        let sender = ChannelSender(channel: channel, version: "test", shouldAbort: { false })
        let now = Date().timeIntervalSince1970
        let fired = sender.deliver(try Self.outbox(Self.notification(at: now)), now: now)
        #expect(fired.kind == .delivered && fired.httpStatus == 200, "\(fired.error)")
        let listed = try await eventually("the alert in Alertmanager", timeout: 10, interval: 0.1) { () -> [[String: Any]]? in
            let (status, body) = try NotifyReceivers.get("http://127.0.0.1:\(port)/api/v2/alerts")
            guard status == 200, let alerts = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]], !alerts.isEmpty else { return nil }
            return alerts
        }
        let labels = try #require(listed.first?["labels"] as? [String: String])
        #expect(labels == ["alertname": "offline", "severity": "critical", "heatpump_id": "hp1", "name": "Boiler room", "location": "Building A", "site": "north"])
        #expect((listed.first?["status"] as? [String: Any])?["state"] as? String == "active")

        // Resolved now: Alertmanager honours an endsAt that has passed (a future one would only shorten the alert).
        let resolvedAt = Date().timeIntervalSince1970
        let resolved = sender.deliver(try Self.outbox(Self.notification(resolved: true, at: resolvedAt)), now: resolvedAt)
        #expect(resolved.kind == .delivered, "\(resolved.error)")
        _ = try await eventually("the alert resolved in Alertmanager", timeout: 10, interval: 0.1) { () -> Bool? in
            let (status, body) = try NotifyReceivers.get("http://127.0.0.1:\(port)/api/v2/alerts?active=true")
            guard status == 200, let alerts = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [[String: Any]] else { return nil }
            return alerts.isEmpty ? true : nil
        }
    }

    @Test("ntfy and Gotify: the publish requests their APIs document (topic URL, Title/Priority/Tags headers and a text body; /message with X-Gotify-Key and JSON), token from a file")
    func ntfyAndGotify() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-push")
        let port = try freeLoopbackPort()
        let out = dir.file("received.jsonl")
        let receiver = try NotifyReceivers.webhook(port: port, fails: 0, out: out)
        defer { receiver.stop() }
        try dir.write("token", "tk_secret\n")
        var ntfy = NotifyChannel(name: "phone", kind: .ntfy, url: "http://127.0.0.1:\(port)/heating-alerts")
        ntfy.tokenFile = dir.file("token")
        ntfy.tags = ["house"]
        var gotify = NotifyChannel(name: "gotify", kind: .gotify, url: "http://127.0.0.1:\(port)/")
        gotify.tokenFile = dir.file("token")
        let now = Date().timeIntervalSince1970
        let message = try Self.outbox(Self.notification(at: now))
        for channel in [ntfy, gotify] {
            let outcome = ChannelSender(channel: channel, version: "test", shouldAbort: { false }).deliver(message, now: now)
            #expect(outcome.kind == .delivered && outcome.httpStatus == 200, "\(channel.name): \(outcome.error)")
        }
        let got = NotifyReceivers.received(out)
        try #require(got.count == 2)
        let n = got[0], g = got[1]
        let nh = n["headers"] as? [String: String] ?? [:]
        #expect(n["path"] as? String == "/heating-alerts", "ntfy publishes to the topic's URL")
        #expect(nh["Priority"] == "5" && nh["Tags"] == "rotating_light,house" && nh["Authorization"] == "Bearer tk_secret", "\(nh)")
        #expect((nh["Title"] ?? "").contains("Boiler room") && (n["text"] as? String ?? "").contains("Boiler room"), "\(nh) \(n["text"] ?? "")")
        #expect(n["body"] is NSNull, "a plain-text message, not JSON")
        let gh = g["headers"] as? [String: String] ?? [:]
        let gb = g["body"] as? [String: Any] ?? [:]
        #expect(g["path"] as? String == "/message" && gh["X-Gotify-Key"] == "tk_secret" && gh["Content-Type"] == "application/json")
        #expect(gb["priority"] as? Int == 8 && (gb["title"] as? String ?? "").contains("Boiler room") && gb["message"] is String, "\(gb)")

        // Non-ASCII (a German building name) goes as an RFC 2047 encoded word, which ntfy decodes.
        var german = Self.notification(at: now)
        german.firing[0].name = "Heizraum Süd"
        let umlaut = ChannelSender(channel: ntfy, version: "test", shouldAbort: { false }).deliver(try Self.outbox(german), now: now)
        #expect(umlaut.kind == .delivered)
        let title = (NotifyReceivers.received(out).last?["headers"] as? [String: String])?["Title"] ?? ""
        #expect(title.hasPrefix("=?UTF-8?B?") && title.hasSuffix("?="), "\(title)")
        let decoded = Data(base64Encoded: String(title.dropFirst(10).dropLast(2))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(decoded.contains("Heizraum Süd"), "\(decoded)")
    }
}
