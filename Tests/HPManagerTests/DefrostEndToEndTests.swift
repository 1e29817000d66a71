import Foundation
import Insight
import Testing
import TestSupport

/// Defrost periods through the real hpmanagerd polling hpsim, whose `defrost` command holds a defrost
/// of a length the test controls (ground truth): from IDM's operating mode, and from NIBE's ΔT
/// reversal (supply 3 K below return at hpsim's constant 18.2 l/min: the heat taken back).
@Suite("Defrost end to end", .harnessThreads, .serialized)
struct DefrostEndToEndTests {
    /// Holds a defrost of about `seconds` and returns the bounds the daemon's count must lie within:
    /// at least from when the defrost was seen to when it was ended, at most from when it was begun to
    /// when its end was seen.
    static func defrost(_ sim: SimulatorProcess, _ port: Int, _ daemon: DaemonProcess, _ id: [String: String],
                        seconds: Double) async throws -> (low: Double, high: Double, metrics: PromMetrics) {
        let begun = Date()
        try sim.command("defrost \(port) 1 on")
        var m = try await DaemonHarness.waitFor(daemon, "defrost seen") { $0.value("heatpump_defrost_active", id) == 1 }
        let seen = Date()
        #expect(m.value("heatpump_cop", id) == nil, "no COP during a defrost")
        // The ground truth: a defrost this long (a controlled duration, not a wait for a condition).
        try await Task.sleep(for: .seconds(seconds))
        let ended = Date()
        try sim.command("defrost \(port) 1 off")
        m = try await DaemonHarness.waitFor(daemon, "defrost end seen") {
            $0.value("heatpump_defrost_active", id) == 0 && $0.value("heatpump_cop", id) != nil
        }
        return (ended.timeIntervalSince(seen), Date().timeIntervalSince(begun), m)
    }

    @Test("IDM: a defrost from the operating mode (8) is counted for as long as it lasted; share of the run time; no COP meanwhile")
    func idmMode() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.2)
        try sim.command("compressor \(port) 1 on")
        let daemon = try harness.start()
        let id = ["heatpump_id": "idm1"]
        _ = try await DaemonHarness.waitFor(daemon, "running, no defrost") {
            $0.value("heatpump_defrost_seconds_total", id) == 0 && $0.value("heatpump_cop", id) != nil
        }
        let (low, high, m) = try await Self.defrost(sim, port, daemon, id, seconds: 1.5)
        let counted = try #require(m.value("heatpump_defrost_seconds_total", id))
        #expect(counted >= low && counted <= high, "counted \(counted) s, ground truth between \(low) and \(high) s")
        let share = try #require(m.value("heatpump_defrost_share", id))
        let runtime = try #require(m.value("heatpump_compressor_runtime_seconds_total", id))
        #expect(abs(share - counted / runtime) < 1e-6, "share \(share) = \(counted) / \(runtime)")
        #expect(!m.has("heatpump_defrost_energy_kwh_total"), "IDM's COP is from power registers: no flow, no defrost energy")
        daemon.process.stop()
    }

    @Test("NIBE: a defrost from ΔT reversal lasting past min_duration; the heat taken back is flow × ΔT × c_p over its length")
    func nibeReversal() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "n1", port: port, model: "nibe_quick_defrost")], interval: 0.2)
        // The built-in model waits 2 min for a reversal; this one 0.4 s, so the test stays short.
        try harness.dir.write("registers.yml", """
            models:
              nibe_quick_defrost:
                extends: nibe_s1155
                derived:
                  defrost: {flow_temp: supply_temp, return_temp: return_temp, min_duration: 0.4}

            """)
        try sim.command("compressor \(port) 1 on")
        let daemon = try harness.start()
        let id = ["heatpump_id": "n1"]
        _ = try await DaemonHarness.waitFor(daemon, "running, no defrost") {
            $0.value("heatpump_defrost_seconds_total", id) == 0 && $0.value("heatpump_cop", id) != nil
        }
        let (low, high, m) = try await Self.defrost(sim, port, daemon, id, seconds: 1.5)
        let counted = try #require(m.value("heatpump_defrost_seconds_total", id))
        // Confirmed 0.4 s after the reversal began, then counted from its start: the same bounds.
        #expect(counted >= low && counted <= high, "counted \(counted) s, ground truth between \(low) and \(high) s")
        let kWh = try #require(m.value("heatpump_defrost_energy_kwh_total", id))
        // ΔT is exactly 3 K in hpsim's defrost; ρ and c_p vary by < 0.2 % over its supply temperatures.
        let water = HeatTransferFluid.water
        let mean = try #require(m.value("heatpump_supply_temp", id)) + 1.5
        let kW = 18.2 / 60 * water.density(celsius: mean) * water.specificHeat(celsius: mean) * 3
        #expect(abs(kWh - kW * counted / 3600) < 0.01 * kWh, "\(kWh) kWh over \(counted) s at about \(kW) kW")
        daemon.process.stop()
    }
}
