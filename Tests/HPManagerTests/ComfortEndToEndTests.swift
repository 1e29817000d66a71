import Foundation
import Testing
import TestSupport

/// Comfort metrics through the real hpmanagerd polling hpsim's NIBE profile: the test sets climate
/// system 1's calculated supply (input 31018) above the supply (BT2, 30–45 °C in hpsim's cycle), so
/// the supply falls short; the priority register says heating (30) while the compressor runs, off
/// (10) when it stops.
@Suite("Comfort metrics end to end", .harnessThreads, .serialized)
struct ComfortEndToEndTests {
    @Test("supply deviation = BT2 − calculated supply of the same poll while heating; the shortfall integrates; hot water flag and degree-minutes from the same poll")
    func nibe() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "nibe1", port: port, model: "nibe_s1155")], interval: 0.2)
        try sim.command("compressor \(port) 1 off")
        let daemon = try harness.start()
        let id = ["heatpump_id": "nibe1"]
        let system1 = ["heatpump_id": "nibe1", "climate_system": "1"]
        var m = try await DaemonHarness.waitFor(daemon, "priority off seen") {
            $0.value("heatpump_priority", id) == 10 && $0.value("heatpump_supply_deficit_kelvin_seconds_total", id) != nil
        }
        #expect(m.value("heatpump_supply_deviation_celsius", id) == nil, "not heating: no deviation")
        #expect(m.values("heatpump_degree_minute_balance", where: id) == [-120], "hpsim's constant, exported once (the register is the series)")
        #expect(!m.has("heatpump_supply_target_celsius"), "NIBE's target is its own register, not a declared curve")

        try sim.command("compressor \(port) 1 on")
        try sim.command("set \(port) 1 input 1017 600")   // 60.0 °C
        m = try await DaemonHarness.waitFor(daemon, "heating and short of the curve") {
            $0.value("heatpump_priority", id) == 30 && ($0.value("heatpump_supply_deviation_celsius", id) ?? 0) < 0
                && ($0.value("heatpump_supply_deficit_kelvin_seconds_total", id) ?? 0) > 0
        }
        let supply = try #require(m.value("heatpump_supply_temp", id))
        let target = try #require(m.value("heatpump_climate_system_supply_setpoint", system1))
        let deviation = try #require(m.value("heatpump_supply_deviation_celsius", id))
        #expect(target == 60 && abs(deviation - (supply - target)) < 1e-9, "\(deviation) from \(supply) − \(target)")
        let top = try #require(m.value("heatpump_hot_water_top_temp", id))
        let start = try #require(m.value("heatpump_hot_water_start_temp_normal", id))
        #expect(m.value("heatpump_dhw_below_setpoint", id) == (top < start ? 1 : 0), "tank top \(top) against the charging start \(start)")
        #expect(m.value("heatpump_dhw_below_setpoint_seconds_total", id) != nil)
        let (status, output) = try Promtool.check(m.text)
        #expect(status == 0, "promtool lints the comfort series too: \(output)")

        // Stopped: not heating any more, so the shortfall stops counting once the off poll is seen.
        try sim.command("compressor \(port) 1 off")
        m = try await DaemonHarness.waitFor(daemon, "off seen") {
            $0.value("heatpump_priority", id) == 10 && $0.value("heatpump_supply_deviation_celsius", id) == nil
        }
        let frozen = try #require(m.value("heatpump_supply_deficit_kelvin_seconds_total", id))
        let polls = try #require(m.value("heatpump_polls_total", id))
        m = try await DaemonHarness.waitFor(daemon, "three more polls") { ($0.value("heatpump_polls_total", id) ?? 0) >= polls + 3 }
        #expect(m.value("heatpump_supply_deficit_kelvin_seconds_total", id) == frozen, "no heating: nothing accrues")
    }
}
