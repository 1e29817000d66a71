import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The notifier and alerts across a reload and a restart, through the real daemon. Not timing
/// sensitive (every wait is a condition with a deadline), so it runs in make test's first pass,
/// not beside the real-time suites.
@Suite("Notifications and alerts across reloads and restarts", .harnessThreads)
struct NotifyLifecycleTests {
    static func notifySection(url: String) -> String {
        """
        alerts:
          - {name: offline, offline_for: 1s, severity: critical}
        notify:
          retry: {initial: 0.2s, max: 0.5s}
          channels:
            - {name: hook, type: webhook, url: "\(url)"}
          routes:
            - {name: buildings, channels: [hook], group_by: [location, alert], group_wait: 1s, group_interval: 1s}
        """
    }

    @Test("a reload applies notify: live: a channel's new URL gets the next message (the group is not announced again), and removing notify: stops it")
    func reloadAppliesNotify() async throws {
        let portA = try freeLoopbackPort(), portB = try freeLoopbackPort()
        var devices = try (1...2).map { i in DaemonHarness.Device(id: "hp\(i)", port: try freeLoopbackPort(), location: "Building A", timeout: 0.2) }
        let harness = try DaemonHarness(devices: devices, extraSections: Self.notifySection(url: "http://127.0.0.1:\(portA)/hook"))
        let outA = harness.dir.file("a.jsonl"), outB = harness.dir.file("b.jsonl")
        let receiverA = try NotifyReceivers.webhook(port: portA, fails: 0, out: outA)
        defer { receiverA.stop() }
        let receiverB = try NotifyReceivers.webhook(port: portB, fails: 0, out: outB)
        defer { receiverB.stop() }
        let daemon = try harness.start()
        defer { daemon.process.stop() }
        let first = try await eventually("the first message at A", timeout: 20, interval: 0.1) { () -> [[String: Any]]? in
            let got = NotifyReceivers.received(outA)
            return got.isEmpty ? nil : got
        }
        #expect(((first.first?["body"] as? [String: Any])?["alerts"] as? [[String: Any]])?.compactMap { $0["heatpump_id"] as? String } == ["hp1", "hp2"])

        // Reload: the channel moves to B and a third device of the building goes dark.
        _ = try DaemonHarness(devices: [], extraSections: Self.notifySection(url: "http://127.0.0.1:\(portB)/hook"), reuse: harness.dir)
        devices.append(DaemonHarness.Device(id: "hp3", port: try freeLoopbackPort(), location: "Building A", timeout: 0.2))
        try harness.writeDevices(devices)
        daemon.process.signal(SIGHUP)
        let atB = try await eventually("the next message at B", timeout: 20, interval: 0.1) { () -> [[String: Any]]? in
            let got = NotifyReceivers.received(outB)
            return got.isEmpty ? nil : got
        }
        let alerts = ((atB.first?["body"] as? [String: Any])?["alerts"] as? [[String: Any]])?.compactMap { $0["heatpump_id"] as? String }
        #expect(alerts == ["hp1", "hp2", "hp3"], "the group kept its state and gained hp3: \(String(describing: alerts))")
        #expect(NotifyReceivers.received(outA).count == 1, "nothing more to the old URL")
        #expect(!daemon.log.contains("take effect only after a daemon restart"), "notify: is live")

        // Reload without notify: the channel stops and its series go.
        _ = try DaemonHarness(devices: [], extraSections: "alerts:\n  - {name: offline, offline_for: 1s, severity: critical}\n", reuse: harness.dir)
        try harness.writeDevices(devices)
        daemon.process.signal(SIGHUP)
        _ = try await DaemonHarness.waitFor(daemon, "the channel's series gone") { !$0.has("hpmanager_notifications_sent_total", ["channel": "hook"]) }
        #expect(NotifyReceivers.received(outB).count == 1)
    }

    @Test("an alert open across a restart is neither stored nor notified twice; it resolves once the device is back, with a resolve message")
    func openAlertAcrossRestart() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = sim.ports[0]
        try sim.command("down \(port)")
        let hookPort = try freeLoopbackPort()
        let harness = try DaemonHarness(devices: [.init(id: "hp1", port: port, location: "Building A", timeout: 0.2)],
                                        extraSections: Self.notifySection(url: "http://127.0.0.1:\(hookPort)/hook"))
        let out = harness.dir.file("received.jsonl")
        let receiver = try NotifyReceivers.webhook(port: hookPort, fails: 0, out: out)
        defer { receiver.stop() }
        func openRows() throws -> [[SQLiteValue]] {
            try SQLiteDatabase(path: harness.files.databasePath).query("SELECT raised_at, resolved_at FROM alerts WHERE rule = 'offline' AND heatpump_id = 'hp1'")
        }
        do {
            let daemon = try harness.start()
            defer { daemon.process.stop() }
            _ = try await eventually("the firing message", timeout: 20, interval: 0.1) { NotifyReceivers.received(out).isEmpty ? nil : true }
            #expect(daemon.process.stop() == 0)
        }
        #expect(try openRows().count == 1)

        // Restart with the device still dark: the alert continues (active at once), nothing new is sent.
        let daemon = try harness.start()
        defer { daemon.process.stop() }
        _ = try await DaemonHarness.waitFor(daemon, "the alert active again") {
            $0.value("heatpump_alert_active", ["heatpump_id": "hp1", "rule": "offline"]) == 1 && ($0.value("heatpump_polls_total", ["heatpump_id": "hp1"]) ?? 0) >= 10
        }
        #expect(daemon.log.contains("open alerts continued from before the restart"), "\(daemon.log.suffix(4000))")
        // Back: the one row resolves and the resolve is the second (and last) message.
        try sim.command("up \(port)")
        let messages = try await eventually("the resolve message", timeout: 20, interval: 0.1) { () -> [[String: Any]]? in
            let got = NotifyReceivers.received(out)
            return got.count >= 2 ? got : nil
        }
        let statuses = messages.compactMap { ($0["body"] as? [String: Any])?["status"] as? String }
        #expect(statuses == ["firing", "resolved"], "\(statuses)")
        let rows = try await eventually("the row resolved", timeout: 10) { () -> [[SQLiteValue]]? in
            let rows = try openRows()
            return rows.allSatisfy { $0[1].double != nil } ? rows : nil
        }
        let alertLog = daemon.log.components(separatedBy: "\n").filter { $0.contains("alert") || $0.contains("store") }.suffix(30)
        #expect(rows.count == 1, "one alert across the restart, not two: \(rows); the second daemon's alert and store lines:\n\(alertLog.joined(separator: "\n"))")
    }
}
