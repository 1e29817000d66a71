import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The derived state (compressor counters, cycles, SCOP sums) through restarts of the real
/// hpmanagerd polling hpsim's IDM profile, whose compressor the test toggles (ground truth: the
/// number of toggles).
@Suite("Derived state across daemon restarts", .harnessThreads, .serialized)
struct DerivedStateRestartTests {
    static let id = ["heatpump_id": "idm1"]

    /// Toggles the compressor on and off once and waits until the daemon has counted `start`.
    static func cycle(_ sim: SimulatorProcess, _ port: Int, _ daemon: DaemonProcess, start: Int) async throws {
        try sim.command("compressor \(port) 1 on")
        _ = try await DaemonHarness.waitFor(daemon, "start \(start) counted") {
            $0.value("heatpump_compressor_starts_total", Self.id) == Double(start)
        }
        try sim.command("compressor \(port) 1 off")
        _ = try await DaemonHarness.waitFor(daemon, "stop after start \(start) seen") { $0.value("heatpump_compressor_status_1", Self.id) == 0 }
    }

    /// A daemon on the same directory, once the previous one's metrics file is gone (its values must not be read).
    static func restart(_ harness: DaemonHarness) throws -> DaemonProcess {
        try? FileManager.default.removeItem(atPath: harness.metricsPath)
        return try harness.start()
    }

    /// Waits until the saved row holds `starts` (the periodic save), so a SIGKILL after it loses nothing.
    static func waitForSavedStarts(_ harness: DaemonHarness, _ starts: Int) async throws {
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        _ = try await eventually("derived state with \(starts) starts saved", timeout: 10) { () -> Bool? in
            let rows = try db.query("SELECT state FROM derived_state WHERE heatpump_id = 'idm1'")
            guard case .text(let state)? = rows.first?.first,
                  state.contains("\"starts\":\(starts),") || state.contains("\"starts\":\(starts)}") else { return nil }
            return true
        }
    }

    @Test("starts_total and runtime do not drop across a SIGTERM restart or a SIGKILL after a periodic save, and keep counting")
    func countersSurviveRestarts() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.2,
                                        sqliteKeys: "  derived_state_interval: 0.3")
        try sim.command("compressor \(port) 1 off")
        var daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "compressor seen off") { $0.value("heatpump_compressor_starts_total", Self.id) == 0 }
        for start in 1...2 { try await Self.cycle(sim, port, daemon, start: start) }
        let before = try #require(daemon.metrics()?.value("heatpump_compressor_runtime_seconds_total", Self.id))
        #expect(before > 0)
        #expect(daemon.process.stop() == 0, "graceful stop: \(daemon.log.suffix(2000))")

        // SIGTERM: saved at shutdown.
        daemon = try Self.restart(harness)
        var m = try await DaemonHarness.waitFor(daemon, "starts after the restart") { $0.value("heatpump_compressor_starts_total", Self.id) != nil }
        #expect(m.value("heatpump_compressor_starts_total", Self.id) == 2, "starts_total must not drop across a restart")
        #expect((m.value("heatpump_compressor_runtime_seconds_total", Self.id) ?? 0) >= before, "run time must not drop")
        try await Self.cycle(sim, port, daemon, start: 3)

        // SIGKILL: nothing runs at exit; the periodic save (every 0.3 s of polling) has the third start.
        try await Self.waitForSavedStarts(harness, 3)
        daemon.process.signal(SIGKILL)
        _ = daemon.process.waitForExit(timeout: 5)
        daemon = try Self.restart(harness)
        m = try await DaemonHarness.waitFor(daemon, "starts after SIGKILL") { $0.value("heatpump_compressor_starts_total", Self.id) != nil }
        #expect(m.value("heatpump_compressor_starts_total", Self.id) == 3, "the periodic save survives a SIGKILL")
        try await Self.cycle(sim, port, daemon, start: 4)
        daemon.process.stop()
    }

    @Test("a corrupt saved row is ignored and logged: the counters start over instead of the daemon failing")
    func corruptRowIgnored() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.2)
        try sim.command("compressor \(port) 1 off")
        var daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "compressor seen off") { $0.value("heatpump_compressor_starts_total", Self.id) == 0 }
        try await Self.cycle(sim, port, daemon, start: 1)
        #expect(daemon.process.stop() == 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        try db.run("UPDATE derived_state SET state = '{\"version\": 1, \"cycles\": {\"starts\": ' WHERE heatpump_id = 'idm1'")
        #expect(db.changes == 1, "the shutdown saved a row")

        daemon = try Self.restart(harness)
        let m = try await DaemonHarness.waitFor(daemon, "starts after the restart") { $0.value("heatpump_compressor_starts_total", Self.id) != nil }
        #expect(m.value("heatpump_compressor_starts_total", Self.id) == 0, "a corrupt state is not restored")
        #expect(m.value("heatpump_up", Self.id) == 1)
        _ = try await eventually("the corrupt row logged", timeout: 5) { daemon.log.contains("saved derived state is corrupt") ? true : nil }
        daemon.process.stop()
    }
}
