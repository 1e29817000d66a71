import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Anomaly detection through the real hpmanagerd polling hpsim's IDM profile: the score is exported,
/// a defrost held on in hpsim (`freeze` of the operating mode, then `set` to 8 = defrost) raises an
/// alert in `hpmanagerctl alerts` that names it, the alert resolves when the mode moves again, and the
/// learnt model is in SQLite and restored after a restart. (hpsim's sensors change too slowly at
/// 0.1 resolution for a stuck-sensor test in seconds; `AnomalyTraceTests` covers stuck sensors.)
@Suite("Anomaly detection end to end", .harnessThreads, .serialized)
struct AnomalyEndToEndTests {
    static let registers = """
        models:
          idm_watched:
            extends: idm_navigator_2
            derived:
              anomaly: {outdoor_temp: outdoor_temp, registers: [outdoor_temp], warmup: 3s, max_defrost: 2s}

        """

    static func anomalyAlerts(_ socket: String) throws -> [[String: Any]] {
        let r = try ControlSocketTests.ctl(socket, ["alerts", "--json"])
        return ((ControlSocketTests.json(r.1)["alerts"] as? [[String: Any]]) ?? []).filter { $0["rule"] as? String == "anomaly" }
    }

    @Test("heatpump_anomaly_score exported and stored; an endless defrost raises an anomaly alert naming it, resolved when it ends; model kept across a restart")
    func endlessDefrost() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"], tickInterval: 0.05)
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_watched")], interval: 0.2)
        try harness.dir.write("registers.yml", Self.registers)
        var daemon = try harness.start()
        let id = ["heatpump_id": "idm1"]
        let m = try await DaemonHarness.waitFor(daemon, "anomaly score exported") { $0.value("heatpump_anomaly_score", id) != nil }
        let score = try #require(m.value("heatpump_anomaly_score", id))
        #expect(score >= 0 && score < 0.5, "a moving sensor scores low: \(score)")
        #expect(try Self.anomalyAlerts(harness.socketPath).isEmpty)

        _ = try sim.command("freeze \(port) 1 hp_operating_mode on")
        _ = try sim.command("set \(port) 1 input 1090 8")
        let alert: [String: Any]
        do {
            alert = try await eventually("anomaly alert raised", timeout: 20, interval: 0.2) { () -> [String: Any]? in
                try Self.anomalyAlerts(harness.socketPath).first
            }
        } catch {
            let r = try ControlSocketTests.ctl(harness.socketPath, ["alerts", "--json"])
            Issue.record("alerts: \(r.1) score: \(String(describing: daemon.metrics()?.value("heatpump_anomaly_score", id)))\nlog: \(daemon.log.suffix(3000))")
            throw error
        }
        let message = alert["message"] as? String ?? ""
        #expect(message.hasPrefix("defrost running for ") && message.contains(", usual ≤ 2 s"), "\(alert)")
        #expect(alert["heatpump_id"] as? String == "idm1" && alert["severity"] as? String == "warning", "\(alert)")
        _ = try await DaemonHarness.waitFor(daemon, "alert active in the metrics") {
            $0.value("heatpump_alert_active", ["heatpump_id": "idm1", "rule": "anomaly"]) == 1 && ($0.value("heatpump_anomaly_score", id) ?? 0) >= 0.5
        }

        _ = try sim.command("compressor \(port) 1 off")  // the mode follows the compressor again: 0, no defrost
        _ = try sim.command("freeze \(port) 1 hp_operating_mode off")
        _ = try await DaemonHarness.waitFor(daemon, "alert resolved", timeout: 10) {
            $0.value("heatpump_alert_active", ["heatpump_id": "idm1", "rule": "anomaly"]) == 0
        }

        #expect(daemon.process.stop() == 0)
        let store = try SQLiteDatabase(path: harness.files.databasePath)
        let saved = try store.query("SELECT length(state) FROM anomaly_models WHERE heatpump_id = 'idm1'")
        let length: Int64 = 30 + 4 * (3 * 8 + 3)
        #expect(saved.first?.first == .integer(length), "one register × 8 bands, saved at shutdown: \(saved)")
        let stored = try store.query("SELECT data FROM readings WHERE heatpump_id = 'idm1' AND data LIKE '%\"anomaly_score\":%' LIMIT 1")
        #expect(!stored.isEmpty, "the score is in the SQLite history")

        daemon = try harness.start()
        _ = try await eventually("model restored at start", timeout: 10) { daemon.log.contains("anomaly model restored") ? true : nil }
        #expect(daemon.process.stop() == 0)
    }
}
