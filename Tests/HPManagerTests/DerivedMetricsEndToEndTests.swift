import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Derived metrics through the real hpmanagerd polling hpsim's IDM profile, whose thermal power is
/// 3.6 × its electrical power (ground truth: COP 3.6) and whose compressor the test toggles.
@Suite("Derived metrics end to end", .harnessThreads, .serialized)
struct DerivedMetricsEndToEndTests {
    @Test("heatpump_cop equals current_power ÷ electrical_power of the same poll (3.6); starts counted from a toggled compressor; in the SQLite history")
    func idm() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.2)
        try sim.command("compressor \(port) 1 off")
        let daemon = try harness.start()
        let id = ["heatpump_id": "idm1"]
        var m = try await DaemonHarness.waitFor(daemon, "compressor seen off") {
            $0.value("heatpump_compressor_status_1", id) == 0 && $0.value("heatpump_compressor_starts_total", id) != nil
        }
        #expect(m.value("heatpump_compressor_starts_total", id) == 0)
        #expect(m.value("heatpump_cop", id) == nil, "no COP while the compressor is off")
        #expect(m.value("heatpump_defrost_active", id) == 0 && m.value("heatpump_short_cycling", id) == 0)
        #expect(!m.has("heatpump_scop"), "IDM has no electricity counter: no SCOP series, not a 0")

        for start in 1...3 {
            try sim.command("compressor \(port) 1 on")
            m = try await DaemonHarness.waitFor(daemon, "start \(start) counted") {
                $0.value("heatpump_compressor_status_1", id) == 1 && $0.value("heatpump_compressor_starts_total", id) == Double(start)
                    && $0.value("heatpump_cop", id) != nil
            }
            let q = try #require(m.value("heatpump_current_power", id)), p = try #require(m.value("heatpump_electrical_power", id))
            let cop = try #require(m.value("heatpump_cop", id))
            #expect(abs(cop - q / p) < 1e-9 * cop, "COP \(cop) from \(q) kW / \(p) kW")
            #expect(abs(cop - 3.6) < 1e-5, "hpsim's ground truth: thermal = 3.6 × electrical")
            try sim.command("compressor \(port) 1 off")
            m = try await DaemonHarness.waitFor(daemon, "stop \(start) seen") { $0.value("heatpump_compressor_status_1", id) == 0 }
        }
        #expect(m.value("heatpump_compressor_starts_total", id) == 3)
        #expect((m.value("heatpump_compressor_runtime_seconds_total", id) ?? 0) > 0)
        // Three starts within the hour; the mean of three completed cycles; running part of the observed time.
        #expect(m.value("heatpump_compressor_starts_per_hour", id) == 3)
        let runtime = try #require(m.value("heatpump_compressor_runtime_seconds_total", id))
        let perStart = try #require(m.value("heatpump_compressor_run_seconds_per_start", id))
        #expect(abs(perStart * 3 - runtime) < 1e-6 * runtime, "off at the first poll: the run time is exactly the three cycles: \(perStart) vs \(runtime)")
        let duty = try #require(m.value("heatpump_compressor_duty_ratio", id))
        #expect(duty > 0 && duty < 1, "\(duty)")
        #expect(!m.has("heatpump_compressor_service_due_hours"), "no service_interval: no series")

        // The same samples reach the SQLite history under the same names (without the prefix).
        let store = try SQLiteDatabase(path: harness.files.databasePath)
        let row = try await eventually("a stored reading with cop", timeout: 10) { () -> String? in
            let rows = try store.query("SELECT data FROM readings WHERE heatpump_id = 'idm1' AND data LIKE '%\"cop\":%' ORDER BY at DESC LIMIT 1")
            if case .text(let data)? = rows.first?.first { return data }
            return nil
        }
        #expect(row.contains("\"compressor_starts_total\":") && row.contains("\"defrost_active\":0"), "\(row)")
    }

    @Test("SCOP from hpsim's NIBE energy counters with known increases: 0.4 kWh of heat for 0.1 kWh of electricity is 4.0")
    func nibeSCOP() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = sim.ports[0]
        // The counters hold still (frozen) and the test writes them: total_production at input 3821, total_consumption at 3823
        // (uint32, low word first, 0.1 kWh).
        try sim.command("freeze \(port) 1 total_production on")
        try sim.command("freeze \(port) 1 total_consumption on")
        func write(_ address: Int, _ raw: Int) throws {
            try sim.command("set \(port) 1 input \(address) \(raw & 0xFFFF)")
            try sim.command("set \(port) 1 input \(address + 1) \(raw >> 16)")
        }
        try write(3821, 10_000)
        try write(3823, 2500)
        let harness = try DaemonHarness(devices: [.init(id: "n", port: port)], interval: 1)
        let daemon = try harness.start()
        let id = ["heatpump_id": "n"]
        var m = try await DaemonHarness.waitFor(daemon, "the counters read") { $0.value("heatpump_total_production", id) == 1000 }
        #expect(m.value("heatpump_total_consumption", id) == 250)
        #expect(!m.has("heatpump_scop", id), "nothing counted yet: no SCOP, not a 0")
        // Four steps of 0.1 kWh heat, one of 0.1 kWh electricity, each seen by its own poll (0.1 kWh a
        // second is 360 kW, inside the plausible rate).
        for step in 1...4 {
            try write(3821, 10_000 + step)
            if step == 1 { try write(3823, 2501) }
            let polls = m.value("heatpump_polls_total", id) ?? 0
            m = try await DaemonHarness.waitFor(daemon, "step \(step) polled") {
                ($0.value("heatpump_polls_total", id) ?? 0) >= polls + 2 && $0.value("heatpump_total_production", id) == Double(10_000 + step) * 0.1
            }
        }
        let season = try #require(m.value("heatpump_scop", ["heatpump_id": "n", "period": "season"]))
        var heat = 0.0
        for step in 0..<4 {
            let before = Double(10_000 + step) * 0.1, after = Double(10_001 + step) * 0.1
            heat += after - before
        }
        let electricity: Double = 2501 * 0.1 - 2500 * 0.1
        #expect(abs(season - heat / electricity) < 1e-9 && abs(season - 4) < 1e-6, "\(season)")
    }
}
