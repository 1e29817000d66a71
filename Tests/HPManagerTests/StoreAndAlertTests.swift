import Foundation
import SQLiteKit
@testable import Sinks
import Testing
import TestSupport

/// The daemon's SQLite store and alerts, checked in the database file and the metrics file.
@Suite("SQLite store and alerts end to end", .harnessThreads, .serialized)
struct StoreAndAlertTests {
    @Test("threshold and offline alerts raise and resolve against hpsim values; rows, metric and one log line each")
    func alerts() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "a", port: port)], interval: 0.3, extraSections: """
        alerts:
          - name: brine_cold
            register: brine_in_temp
            below: 3
            for: 0.5
            hysteresis: 1
            severity: critical
          - name: offline
            offline_for: 1
        """)
        let daemon = try harness.start()
        let active = ["heatpump_id": "a", "rule": "brine_cold", "severity": "critical"]
        _ = try await DaemonHarness.waitFor(daemon, "brine_cold raised") { $0.value("heatpump_alert_active", active) == 1 }
        #expect(daemon.log.components(separatedBy: "alert raised").count - 1 == 1)
        try sim.command("set \(port) 1 input 10 35")  // 3.5 °C: inside the hysteresis band
        try await Task.sleep(for: .seconds(1))
        #expect(daemon.metrics()?.value("heatpump_alert_active", active) == 1)
        try sim.command("set \(port) 1 input 10 50")  // 5.0 °C: resolved
        _ = try await DaemonHarness.waitFor(daemon, "brine_cold resolved") { $0.value("heatpump_alert_active", active) == 0 }

        try sim.command("down \(port)")
        let offline = ["heatpump_id": "a", "rule": "offline"]
        _ = try await DaemonHarness.waitFor(daemon, "offline raised") { $0.value("heatpump_alert_active", offline) == 1 }
        try sim.command("up \(port)")
        _ = try await DaemonHarness.waitFor(daemon, "offline resolved") { $0.value("heatpump_alert_active", offline) == 0 }
        daemon.process.stop()

        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let rows = try db.query("SELECT rule, heatpump_id, severity, raised_at, resolved_at, value FROM alerts ORDER BY id")
        #expect(rows.map { $0[0].string ?? "" } == ["brine_cold", "offline"])
        #expect(rows.allSatisfy { $0[1].string == "a" && $0[3].double != nil && $0[4].double != nil && $0[4].double! >= $0[3].double! })
        #expect(rows.first?[2].string == "critical" && abs((rows.first?[5].double ?? 0) - 2.1) < 1e-9)
        let kinds = try db.query("SELECT kind FROM events WHERE heatpump_id = 'a' ORDER BY id").compactMap { $0.first?.string }
        #expect(kinds.contains("device_down") && kinds.contains("device_up"))
    }

    @Test("readings history, events and pruning in the SQLite file")
    func history() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.2)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "rows written") { ($0.value("hpmanager_sqlite_rows_written_total") ?? 0) >= 5 }
        daemon.process.signal(SIGHUP)
        _ = try await DaemonHarness.waitFor(daemon, "reload") { $0.value("hpmanager_config_reloads_total", ["result": "success"]) == 1 }
        #expect(daemon.process.stop() == 0)
        let polls = Int(daemon.metrics()?.value("heatpump_polls_total", ["heatpump_id": "a"]) ?? 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        #expect(try db.integrityCheck() == "ok")
        #expect(try db.userVersion == StoreSchema.migrations.count, "every schema migration applied")
        let readings = try db.query("SELECT COUNT(*), MIN(json_extract(data, '$.brine_in_temp')), MAX(json_extract(data, '$.brine_in_temp')) FROM readings WHERE heatpump_id = 'a'").first
        #expect(Int(readings?[0].int ?? 0) == polls, "one history row per successful poll")
        #expect(readings?[1].double == 2.1 && readings?[2].double == 2.1)
        let kinds = try db.query("SELECT kind FROM events ORDER BY id").compactMap { $0.first?.string }
        #expect(kinds.starts(with: ["daemon_started"]) && kinds.contains("config_applied") && kinds.contains("device_up"))
        // Old rows go: with a tiny retention, a restart prunes them within one prune cycle.
        try db.run("UPDATE readings SET at = at - 86400 * 30")
        let second = try harness.start()
        _ = try await DaemonHarness.waitFor(second, "pruned", timeout: 20) { ($0.value("hpmanager_sqlite_readings_pruned_total") ?? 0) >= Double(polls) }
        second.process.stop()
    }

    @Test("kill -9 during heavy writes: both databases open cleanly, spool intact")
    func killNine() async throws {
        let sim = try SimulatorProcess(["--tcp", "luxtronik:0:1-20"])
        let devices = (1...20).map { DaemonHarness.Device(id: "d\($0)", port: sim.ports[0], unit: $0, model: "luxtronik_2_1") }
        let deadPort = try freeLoopbackPort()  // nothing listens: the Influx sink spools everything
        let spool = try TemporaryDirectory(prefix: "hpm-spool")
        let harness = try DaemonHarness(devices: devices, interval: 0.1, collectorKeys: "  batch_size: 20\n  batch_interval: 0.1", extraSections: """
        influxdb:
          url: http://127.0.0.1:\(deadPort)
          version: 1
          database: hpm
          timeout: 0.5
          retry_interval: 1
          spool_path: \(spool.file("spool.db"))
        """)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "heavy writes", timeout: 20) {
            ($0.value("hpmanager_sqlite_rows_written_total") ?? 0) >= 400 && ($0.value("hpmanager_influx_spooled_points") ?? 0) >= 200
        }
        daemon.process.signal(SIGKILL)
        _ = daemon.process.waitForExit(timeout: 5)
        let store = try SQLiteDatabase(path: harness.files.databasePath)
        #expect(try store.integrityCheck() == "ok")
        #expect((try store.query("SELECT COUNT(*) FROM readings").first?.first?.int ?? 0) > 0)
        let spoolDB = try SQLiteDatabase(path: spool.file("spool.db"))
        #expect(try spoolDB.integrityCheck() == "ok")
        let batches = try spoolDB.query("SELECT points, lines FROM spool")
        #expect(batches.count > 0)
        #expect(batches.allSatisfy { row in
            let lines = (row[1].string ?? "").split(separator: "\n")
            return lines.count == Int(row[0].int ?? -1) && lines.allSatisfy { $0.hasPrefix("heatpump_metrics,") }
        }, "every spooled batch is complete")
    }
}
