import DeviceActor
import Foundation
import HPCore
import Sinks
import SQLiteKit
import Supervisor
import Testing
import TestSupport

/// Scheduled writes (idm_logger's jobs): stored in SQLite, fired through the validated write path,
/// audited; runs missed while the daemon was down are recorded, not replayed.
@Suite("Scheduled writes", .harnessThreads, .serialized)
struct ScheduledWriteTests {
    @Test("injected clock: a job fires at its time through the write path, audited; validated when added; a missed run is recorded, not replayed")
    func jobs() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let dir = try TemporaryDirectory(prefix: "hpm-jobs")
        let (control, store) = try await CyclicWriteTests.fleet(dir, port: port)
        defer { Task { await control.shutdown() } }
        let utc = JobScheduleTests.utc
        func at(_ text: String) -> Date { JobScheduleTests.at(text) }
        func setpoint() throws -> Int? { try sim.command("get \(port) 1 input 1032")["value"] as? Int }

        let writes = WriteControl(control: control, store: store, settings: WriteSettings(), calendar: utc, logger: LogCapture().logger)
        let added = try await writes.addJob(id: "idm1", register: "dhw_setpoint", value: "52", days: "daily", time: "06:00", client: "test",
                                            now: at("2026-12-01T05:00:00Z"))
        #expect(added.nextRun == at("2026-12-01T06:00:00Z").timeIntervalSince1970)
        await #expect(throws: DeviceOperationError.self, "validated when added") {
            _ = try await writes.addJob(id: "idm1", register: "dhw_setpoint", value: "99", days: "daily", time: "06:00", client: "test")
        }
        await #expect(throws: ControlError.self) {
            _ = try await writes.addJob(id: "idm1", register: "dhw_setpoint", value: "50", days: "daily", time: "25:00", client: "test")
        }
        await #expect(throws: ControlError.self) {
            _ = try await writes.addJob(id: "nope", register: "dhw_setpoint", value: "50", days: "daily", time: "06:00", client: "test")
        }

        await writes.runDue(at: at("2026-12-01T05:59:59Z"))
        #expect(try setpoint() == 50, "not before its time")
        let next = await writes.runDue(at: at("2026-12-01T06:00:00Z"))
        #expect(try setpoint() == 52, "the job's write reached hpsim")
        #expect(next == at("2026-12-02T06:00:00Z"))
        let stored = try await store.writeJobs()
        #expect(stored.map(\.lastRun) == [at("2026-12-01T06:00:00Z").timeIntervalSince1970])

        // The daemon is "down" from Dec 1 06:00 until Dec 3 07:00: the Dec 2 and Dec 3 runs are missed.
        _ = try sim.command("set \(port) 1 input 1032 50")
        let restarted = try await WriteControl.open(control: control, store: store, settings: WriteSettings(), calendar: utc,
                                                    logger: LogCapture().logger, now: at("2026-12-03T07:00:00Z"))
        #expect(await restarted.runDue(at: at("2026-12-03T07:00:00Z")) == at("2026-12-04T06:00:00Z"))
        #expect(try setpoint() == 50, "missed runs are not replayed")
        let missed = try await store.events().filter { $0.kind == "job_missed" }
        #expect(missed.count == 1 && missed[0].heatpumpID == "idm1" && missed[0].message.contains("missed its run at 2026-12-03T06:00:00Z"), "\(missed)")

        _ = try await restarted.removeJob(added.job.id, client: "test")
        let left = try await store.writeJobs()
        #expect(await restarted.jobs().isEmpty && left.isEmpty)
        let db = try SQLiteDatabase(path: dir.file("store.db"))
        let audit = try db.query("SELECT register, requested, result, client FROM write_audit ORDER BY id").map { $0.map { $0.string ?? "" } }
        #expect(audit.map { $0[2] } == ["job_added", "ok", "job_removed"], "refused adds store nothing: \(audit)")
        #expect(audit.count == 3 && audit[1] == ["dhw_setpoint", "52", "ok", "job #\(added.job.id) (test)"])
    }

    /// `hpmanagerctl jobs ACTION --socket PATH …` (the options belong to the nested subcommand).
    static func jobsCtl(_ socket: String, _ args: [String]) throws -> (Int32, String, String) {
        try ControlSocketTests.ctl(socket, Array(args.dropFirst()), prefix: ["jobs"])
    }

    @Test("hpmanagerctl jobs add: the job fires at its local time and hpsim sees the value; list and remove")
    func daemonJob() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.3)
        let daemon = try harness.start(environment: ["TZ": "UTC"])
        _ = try await DaemonHarness.waitFor(daemon, "idm1 polled") { $0.value("heatpump_dhw_setpoint", ["heatpump_id": "idm1"]) == 50 }
        let f = DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "HH:mm:ss"
        let due = f.string(from: Date().addingTimeInterval(3))

        var r = try Self.jobsCtl(harness.socketPath, ["jobs", "add", "idm1", "dhw_setpoint", "52", "--at", due, "--days", "daily"])
        #expect(r.0 == 0 && r.1.contains("job 1 added"), "\(r.1) \(r.2)")
        r = try Self.jobsCtl(harness.socketPath, ["jobs", "add", "idm1", "dhw_setpoint", "99", "--at", "06:00"])
        #expect(r.0 == 1 && r.2.contains("above the maximum"), "validated before it is stored: \(r.2)")
        _ = try await eventually("the job's write reaches hpsim", timeout: 8) {
            try sim.command("get \(port) 1 input 1032")["value"] as? Int == 52 ? true : nil
        }
        r = try Self.jobsCtl(harness.socketPath, ["jobs", "list", "--json"])
        let jobs = ControlSocketTests.json(r.1)["jobs"] as? [[String: Any]] ?? []
        // The listing gives a whole minute as HH:mm (JobSchedule's canonical text).
        let listed = due.hasSuffix(":00") ? String(due.dropLast(3)) : due
        #expect(jobs.count == 1 && jobs.first?["days"] as? String == "daily" && jobs.first?["at"] as? String == listed, "\(r.1)")
        _ = try await DaemonHarness.waitFor(daemon, "job run counted") { $0.value("hpmanager_write_job_runs_total", [:]) == 1 }
        r = try Self.jobsCtl(harness.socketPath, ["jobs", "remove", "1"])
        #expect(r.0 == 0 && r.1.contains("job 1 removed"), "\(r.1) \(r.2)")
        r = try Self.jobsCtl(harness.socketPath, ["jobs", "remove", "1"])
        #expect(r.0 == 1 && r.2.contains("[not_found]"), "\(r.2)")
        #expect(daemon.process.stop() == 0)
    }
}
