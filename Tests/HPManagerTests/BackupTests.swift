import Foundation
import SQLiteKit
import Testing
import TestSupport

/// `hpmanagerctl backup FILE`: an online copy of the live store while the daemon keeps writing.
@Suite("hpmanagerctl backup", .harnessThreads)
struct BackupTests {
    @Test("online backup of the running daemon's store: consistent, integrity-checked, never overwrites; --db when the daemon is stopped")
    func onlineBackup() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0])], interval: 0.2)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "hp1 polled a few times") { ($0.value("heatpump_polls_total", ["heatpump_id": "hp1"]) ?? 0) >= 3 }
        let live = try SQLiteDatabase(path: harness.files.databasePath)
        let stored = try await eventually("readings stored", timeout: 15) { () -> Int64? in
            let n = try live.query("SELECT count(*) FROM readings WHERE heatpump_id = 'hp1'").first?.first?.int ?? 0
            return n > 0 ? n : nil
        }
        let out = try TemporaryDirectory(prefix: "hpm-backup")
        let file = out.path + "/store-copy.db"

        let (status, stdout, stderr) = try ControlSocketTests.ctl(harness.socketPath, ["backup", file])
        #expect(status == 0, "\(stdout) \(stderr)")
        #expect(stdout.contains("integrity ok"), "\(stdout)")
        // The copy is a complete database of its own: readings of the live device and the registry schema.
        let copy = try SQLiteDatabase(path: file)
        let readings = try copy.query("SELECT count(*) FROM readings WHERE heatpump_id = 'hp1'")
        #expect((readings.first?.first?.int ?? 0) >= stored, "every reading stored before the backup is in it")
        #expect(try copy.integrityCheck() == "ok")
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o640, "the copy is not world-readable")

        // Never overwrites, and the daemon kept polling through it.
        let again = try ControlSocketTests.ctl(harness.socketPath, ["backup", file])
        #expect(again.0 == 74 && again.2.contains("exists"), "\(again)")
        let before = daemon.metrics()?.value("heatpump_polls_total", ["heatpump_id": "hp1"]) ?? 0
        _ = try await DaemonHarness.waitFor(daemon, "still polling") { ($0.value("heatpump_polls_total", ["heatpump_id": "hp1"]) ?? 0) > before }

        // With the daemon stopped, --db names the store.
        #expect(daemon.process.stop() == 0)
        let offline = try ControlSocketTests.ctl(harness.socketPath, ["backup", "--db", harness.files.databasePath, out.path + "/offline.db"])
        #expect(offline.0 == 0, "\(offline)")
        let noDaemon = try ControlSocketTests.ctl(harness.socketPath, ["backup", out.path + "/none.db"])
        #expect(noDaemon.0 == 69, "no daemon and no --db: \(noDaemon)")
    }
}
