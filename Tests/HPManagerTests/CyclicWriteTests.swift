import DeviceActor
import Drivers
import Foundation
import HPCore
import Sinks
import SQLiteKit
import Supervisor
import Testing
import TestSupport

/// Cyclic registers (IDM 1696/1698): a written value is wanted and re-sent every refresh_interval
/// until cleared, survives a restart (SQLite), is audited once per change, and counted per refresh.
@Suite("Cyclic writes", .harnessThreads, .serialized)
struct CyclicWriteTests {
    /// An in-process fleet with one IDM device on `port` and a real store in `dir`.
    static func fleet(_ dir: TemporaryDirectory, port: Int) async throws -> (FleetControl, SQLiteStore) {
        try dir.write("heatpumps.yml", """
        heatpumps:
          - {id: idm1, model: idm_navigator_2, poll_interval: 0.5, modbus: {host: 127.0.0.1, port: \(port), timeout: 1}}

        """)
        let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])
        let config = try loader.load(directory: dir.path)
        let links = LinkRegistry(group: Fixtures.loops, throttle: ConnectThrottle(rate: 100, burst: 10))
        let logger = LogCapture().logger
        let intensity = RestartIntensity(maxRestarts: 1, window: .seconds(1), backoffInitial: .seconds(1), backoffMax: .seconds(1), failedCooldown: .seconds(1))
        let fleet = Fleet(links: links, sink: RecordingSink(), intensity: intensity, logger: logger)
        let store = SQLiteStore(path: dir.file("store.db"), retention: 3600, logger: logger)
        try await store.open()
        let control = FleetControl(initial: config, directory: dir.path, loader: loader, fleet: fleet, store: store, metrics: nil, logger: logger)
        Task { await control.run() }
        // A condition with a generous deadline: make test's first pass once took 134 s for this test.
        let deadline = Date().addingTimeInterval(30)
        while await fleet.actor(for: "idm1") == nil {
            guard Date() < deadline else { throw TimeoutError(what: "idm1 running") }
            try await Task.sleep(for: .milliseconds(20))
        }
        return (control, store)
    }

    struct TimeoutError: Error { var what: String }

    static func metric(_ writes: WriteControl, _ name: String) -> Double? {
        writes.daemonMetrics().first { $0.name == name }?.value
    }

    @Test("injected clock: no re-send before refresh_interval, one at it, the next one interval later; restored after a restart; none after clear")
    func refreshSchedule() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let dir = try TemporaryDirectory(prefix: "hpm-cyclic")
        let (control, store) = try await Self.fleet(dir, port: port)
        defer { Task { await control.shutdown() } }
        func wireWrites() throws -> Int { try sim.portStats(port).requestsByFunction[16] ?? 0 }
        func forget() throws { for a in [1696, 1697] { _ = try sim.command("set \(port) 1 input \(a) 0") } }
        // 35.0 as float32, low word first (CDAB): 1696 = 0x0000, 1697 = 0x420C.
        func held() throws -> Bool { try sim.command("get \(port) 1 input 1697")["value"] as? Int == 0x420C }

        let writes = WriteControl(control: control, store: store, settings: WriteSettings(), logger: LogCapture().logger)
        // The value is wanted from some instant in [t0, t1] on (the write takes a moment on a busy machine).
        let t0 = Date()
        let report = try await writes.write(id: "idm1", register: "glt_temp_demand_heating", value: "35", client: "test")
        let t1 = Date()
        #expect(report.result.outcome == .verified && report.refreshInterval == 600)
        #expect(try wireWrites() == 1 && held())
        #expect(Self.metric(writes, "hpmanager_cyclic_writes_wanted") == 1)

        try forget()
        var next = await writes.runDue(at: t0.addingTimeInterval(599))
        #expect(try wireWrites() == 1, "not due before refresh_interval")
        #expect(next.map { $0.timeIntervalSince(t0) >= 600 } == true)
        next = await writes.runDue(at: t1.addingTimeInterval(600))
        #expect(try wireWrites() == 2 && held(), "the refresh reached the wire and restored the value")
        #expect(next == t1.addingTimeInterval(1200), "the next one interval after this refresh")
        await writes.runDue(at: t1.addingTimeInterval(1199))
        #expect(try wireWrites() == 2)
        await writes.runDue(at: t1.addingTimeInterval(1200))
        #expect(try wireWrites() == 3)
        #expect(Self.metric(writes, "hpmanager_cyclic_refreshes_total") == 2)

        // A restart: the wanted value comes back from SQLite and is re-sent right after start.
        let restarted = try await WriteControl.open(control: control, store: store, settings: WriteSettings(), logger: LogCapture().logger,
                                                    now: t1.addingTimeInterval(2000))
        #expect(await restarted.wanted().map(\.value) == ["35"])
        try forget()
        await restarted.runDue(at: t1.addingTimeInterval(2001))
        #expect(try wireWrites() == 3, "not before the start-up delay")
        await restarted.runDue(at: t1.addingTimeInterval(2002))
        #expect(try wireWrites() == 4 && held())

        try await restarted.clear(id: "idm1", register: "glt_temp_demand_heating", client: "test")
        let left = try await store.cyclicWrites()
        #expect(await restarted.wanted().isEmpty && left.isEmpty)
        #expect(await restarted.runDue(at: t1.addingTimeInterval(10_000)) == nil)
        #expect(try wireWrites() == 4)
        await #expect(throws: ControlError.self, "nothing left to clear") {
            try await restarted.clear(id: "idm1", register: "glt_temp_demand_heating", client: "test")
        }

        let db = try SQLiteDatabase(path: dir.file("store.db"))
        let audit = try db.query("SELECT register, requested, result FROM write_audit ORDER BY id").map { $0.map { $0.string ?? "" } }
        #expect(audit == [["glt_temp_demand_heating", "35", "ok"], ["glt_temp_demand_heating", "", "cleared"]], "audited per change, not per refresh")
    }

    @Test("hpmanagerd: a cyclic value is re-sent on schedule after the controller dropped it, across a restart, until --clear")
    func daemonRefresh() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_fast")], interval: 0.3)
        // The built-in model with a 1 s refresh, so the test waits seconds rather than 10 minutes.
        try harness.dir.write("registers.yml", """
        models:
          idm_fast:
            extends: idm_navigator_2
            byte_order: CDAB
            registers:
              - {name: glt_temp_demand_heating, address: 1696, register_type: input, write_register_type: holding, data_type: float32, access: read_write, write_class: cyclic, refresh_interval: 1s, min: 10, max: 65}

        """)
        func forget() throws { for a in [1696, 1697] { _ = try sim.command("set \(port) 1 input \(a) 0") } }
        func held() throws -> Bool { try sim.command("get \(port) 1 input 1697")["value"] as? Int == 0x420C }
        var daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "idm1 polled") { $0.value("heatpump_dhw_setpoint", ["heatpump_id": "idm1"]) == 50 }

        var r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "glt_temp_demand_heating", "35"])
        #expect(r.0 == 0 && r.1.contains("verified") && r.1.contains("re-sent every 1 s until --clear"), "\(r.1) \(r.2)")
        try forget()
        _ = try await eventually("the refresh restores the value", timeout: 5) { try held() ? true : nil }
        _ = try await DaemonHarness.waitFor(daemon, "refresh counted") { ($0.value("hpmanager_cyclic_refreshes_total", [:]) ?? 0) >= 1 }
        r = try ControlSocketTests.ctl(harness.socketPath, ["wanted"])
        #expect(r.0 == 0 && r.1.contains("glt_temp_demand_heating") && r.1.contains("35"), "\(r.1)")

        #expect(daemon.process.stop() == 0)
        try forget()
        daemon = try harness.start()
        _ = try await eventually("re-sent after the restart", timeout: 8) { try held() ? true : nil }

        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "glt_temp_demand_heating", "--clear"])
        #expect(r.0 == 0 && r.1.contains("cleared"), "\(r.1) \(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "nothing wanted") { $0.value("hpmanager_cyclic_writes_wanted", [:]) == 0 }
        #expect(daemon.process.stop() == 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let results = try db.query("SELECT result FROM write_audit WHERE register = 'glt_temp_demand_heating' ORDER BY id").map { $0[0].string ?? "" }
        #expect(results == ["ok", "cleared"], "one audit row per change, none per refresh: \(results)")
    }
}
