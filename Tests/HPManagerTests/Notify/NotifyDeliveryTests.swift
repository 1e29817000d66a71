import CurlKit
import Foundation
import HPCore
@testable import Sinks
import Testing
import TestSupport

/// Each channel against a real local receiver, through the sender the daemon uses.
@Suite("AlertNotification channels against real receivers: aiosmtpd with STARTTLS, Alertmanager's /api/v2/alerts")
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
}
