import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The daemon end to end: five devices of one building go dark while the webhook is down; the one
/// grouped message waits in the outbox across a restart and is delivered (after the receiver's
/// 503s) once it is back, with every attempt visible through `notifications`.
@Suite("Notifications in the daemon: grouping, outbox across restarts, retries, notifications command, metrics", .harnessThreads)
struct NotifyDaemonTests {
    static func call(_ socket: String, _ line: String) throws -> [String: Any] {
        let client = try UnixSocketClient(path: socket)
        client.send(line + "\n")
        guard let reply = client.readLine(timeout: 5),
              let json = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any] else { return [:] }
        return json
    }

    static func notifications(_ socket: String) -> [[String: Any]] {
        let reply = try? call(socket, #"{"cmd":"notifications","args":{"limit":10,"channel":"hook"}}"#)
        return (reply?["result"] as? [String: Any])?["notifications"] as? [[String: Any]] ?? []
    }

    @Test("an alert raised while the webhook is down is delivered after a restart, once, naming all five devices")
    func durableAcrossRestart() async throws {
        let hookPort = try freeLoopbackPort()
        // Nothing listens on these: the devices never answer.
        let devices = try (1...5).map { i in DaemonHarness.Device(id: "hp\(i)", port: try freeLoopbackPort(), location: "Building A", timeout: 0.2) }
        let harness = try DaemonHarness(devices: devices, extraSections: """
        alerts:
          - {name: offline, offline_for: 1s, severity: critical}
        notify:
          retry: {initial: 0.2s, max: 0.5s}
          channels:
            - {name: hook, type: webhook, url: "http://127.0.0.1:\(hookPort)/hook", headers: {X-Team: heating}}
          routes:
            - {name: buildings, channels: [hook], group_by: [location, alert], group_wait: 5s, group_interval: 1s}
        """)
        let out = harness.dir.file("received.jsonl")

        // Run 1: the receiver is down; the message is queued and its attempts fail.
        do {
            let daemon = try harness.start()
            defer { daemon.process.stop() }
            let queued = try await eventually("a failed attempt in the outbox", timeout: 20, interval: 0.1) { () -> [String: Any]? in
                let rows = Self.notifications(harness.socketPath)
                guard let row = rows.first, (row["attempts"] as? [[String: Any]])?.isEmpty == false else { return nil }
                return row
            }
            #expect(Self.notifications(harness.socketPath).count == 1, "five offline devices of one building are one message")
            #expect(queued["state"] as? String == "pending")
            let title = queued["title"] as? String ?? ""
            #expect(["hp1", "hp2", "hp3", "hp4", "hp5"].allSatisfy { title.contains($0) }, "\(title)")
            let attempt = try #require((queued["attempts"] as? [[String: Any]])?.first)
            #expect(attempt["ok"] as? Bool == false && (attempt["error"] as? String ?? "").contains("127.0.0.1:\(hookPort)"))
            #expect(daemon.process.stop() == 0)
        }

        // Run 2: no devices any more (nothing new is raised); the receiver answers 503 twice, then 200.
        try harness.writeDevices([])
        let receiver = try NotifyReceivers.webhook(port: hookPort, fails: 2, out: out)
        defer { receiver.stop() }
        let daemon = try harness.start()
        defer { daemon.process.stop() }
        let bodies = try await eventually("the message at the webhook", timeout: 20, interval: 0.1) { () -> [[String: Any]]? in
            let got = NotifyReceivers.received(out)
            return got.isEmpty ? nil : got
        }
        let body = try #require(bodies.first?["body"] as? [String: Any])
        let headers = bodies.first?["headers"] as? [String: String] ?? [:]
        #expect(body["status"] as? String == "firing" && body["receiver"] as? String == "hook")
        #expect((body["alerts"] as? [[String: Any]])?.compactMap { $0["heatpump_id"] as? String } == ["hp1", "hp2", "hp3", "hp4", "hp5"])
        #expect((body["group_labels"] as? [String: String]) == ["location": "Building A", "alert": "offline"])
        #expect(headers["X-Team"] == "heating" && headers["X-Hpmanager-AlertNotification-Id"] == "\(body["id"] as? Int ?? -1)")

        let row = try await eventually("the outbox row marked sent", timeout: 10, interval: 0.1) { () -> [String: Any]? in
            Self.notifications(harness.socketPath).first { $0["state"] as? String == "sent" }
        }
        let attempts = row["attempts"] as? [[String: Any]] ?? []
        #expect(attempts.last?["ok"] as? Bool == true && attempts.last?["status"] as? Int == 200)
        #expect(attempts.filter { $0["status"] as? Int == 503 }.count == 2, "\(attempts)")
        #expect(attempts.filter { $0["ok"] as? Bool == false }.count >= 3, "run 1's refused connection, then two 503s")

        let m = try await DaemonHarness.waitFor(daemon, "notification metrics") { m in
            m.value("hpmanager_notifications_sent_total", ["channel": "hook"]) == 1 && m.value("hpmanager_notifications_outbox", ["channel": "hook"]) == 0
        }
        #expect((m.value("hpmanager_notifications_failed_total", ["channel": "hook"]) ?? 0) >= 2)
        #expect(NotifyReceivers.received(out).count == 1)
    }
}
