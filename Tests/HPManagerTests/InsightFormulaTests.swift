import Insight
import Testing

/// The derived-metrics formulas against hand-computed values and reference tables.
@Suite("Insight formulas: fluid properties, COP, counters, compressor cycles", .harnessThreads)
struct InsightFormulaTests {
    @Test("water's c_p and density match IAPWS-95 table values within 0.05 %; glycol lowers c_p")
    func fluidProperties() {
        let table: [(Double, Double, Double)] = [(0, 4.2199, 0.99984), (20, 4.1844, 0.99821), (35, 4.1796, 0.99403),
                                                  (50, 4.1815, 0.98803), (80, 4.1969, 0.97182)]
        for (t, cp, rho) in table {
            #expect(abs(HeatTransferFluid.water.specificHeat(celsius: t) - cp) / cp < 5e-4, "c_p at \(t) °C")
            #expect(abs(HeatTransferFluid.water.density(celsius: t) - rho) / rho < 5e-4, "density at \(t) °C")
        }
        let glycol = HeatTransferFluid(glycol: .propylene, fraction: 0.3)
        #expect(glycol.specificHeat(celsius: 20) < HeatTransferFluid.water.specificHeat(celsius: 20) * 0.9)
        #expect(HeatTransferFluid(glycol: .ethylene, fraction: 5).fraction == 0.6, "fractions are clamped")
    }

    @Test("COP: thermal ÷ electrical; from flow × ΔT × c_p; nil for standby, negative heat or NaN")
    func cop() throws {
        #expect(COP.instantaneous(thermalKW: 8, electricalKW: 2) == 4)
        #expect(COP.instantaneous(thermalKW: 8, electricalKW: 0.01) == nil, "standby")
        #expect(COP.instantaneous(thermalKW: -1, electricalKW: 2) == nil)
        #expect(COP.instantaneous(thermalKW: .nan, electricalKW: 2) == nil)
        // 20 l/min, 35 → 30 °C: 20/60 kg/s × 0.9945 × 4.1797 × 5 K ≈ 6.93 kW.
        let q = try #require(COP.thermalPower(flowLitresPerMinute: 20, supplyCelsius: 35, returnCelsius: 30))
        #expect(abs(q - 20.0 / 60 * 0.99473 * 4.1797 * 5) < 0.01, "\(q)")
        let c = try #require(COP.fromFlow(flowLitresPerMinute: 20, supplyCelsius: 35, returnCelsius: 30, electricalKW: 1.5))
        #expect(abs(c - q / 1.5) < 1e-9)
        #expect(COP.fromFlow(flowLitresPerMinute: 20, supplyCelsius: 30, returnCelsius: 35, electricalKW: 1.5) == nil, "defrost: heat flows back")
        #expect(COP.thermalPower(flowLitresPerMinute: -1, supplyCelsius: 35, returnCelsius: 30) == nil)
    }

    @Test("counters: increases, resets, wraps at the register width, implausible jumps ignored")
    func counters() {
        #expect(CounterDelta.between(100, 102.5, hours: 1) == .increase(2.5))
        #expect(CounterDelta.between(15_000, 3, hours: 1) == .reset(3), "a controller reset starts from the new value")
        let wrap = 4_294_967_296.0 * 0.1  // u32 with scale 0.1
        #expect(CounterDelta.between(wrap - 1, 2, hours: 1, wrapAt: wrap) == .increase(3))
        #expect(CounterDelta.between(100, 5_000, hours: 1, maxRatePerHour: 50) == .implausible)
        #expect(CounterDelta.between(100, 150, hours: 2, maxRatePerHour: 50) == .increase(50), "a gap in polling is fine")
        #expect(CounterDelta.between(.nan, 1, hours: 1) == .implausible)
    }

    @Test("compressor cycles: starts, run time, no start invented across a gap, short-cycling with hysteresis")
    func compressorCycles() {
        var settings = CompressorCycles.Settings()
        settings.maxStartsPerHour = 4
        settings.minMedianRunSeconds = 600
        var c = CompressorCycles(settings: settings)
        // Already running when first seen: not a start. Runs 60 s more, stops.
        c.observe(at: 0, running: true)
        c.observe(at: 60, running: false)
        #expect(c.starts == 0 && c.runSeconds == 60)
        // Four 2-minute cycles, 5 minutes apart, polled every 60 s.
        var t = 60.0
        for _ in 0..<4 {
            for running in [false, false, false, true, true, false] {
                t += 60
                c.observe(at: t, running: running)
            }
        }
        #expect(c.starts == 4)
        #expect(c.medianRunSeconds == 120)
        #expect(c.shortCycling, "median run 2 min < 10 min")
        // A long calm: one 30-minute run per hour. The alarm clears only once both measures are calm.
        for hour in 0..<6 {
            let base = t + Double(hour) * 3600
            c.observe(at: base + 60, running: true)
            for m in 1...30 { c.observe(at: base + 60 + Double(m) * 60, running: true) }
            for m in 31...59 { c.observe(at: base + 60 + Double(m) * 60, running: false) }
        }
        #expect(c.medianRunSeconds ?? 0 >= 1800)
        #expect(!c.shortCycling, "calm again: starts \(c.startsPerHour(at: t + 6 * 3600)), median \(c.medianRunSeconds ?? -1)")
        // A gap (daemon down): no start and no run time across it.
        let before = (c.starts, c.runSeconds)
        c.observe(at: t + 6 * 3600 + 20_000, running: true)
        #expect(c.starts == before.0 && c.runSeconds == before.1)
    }
}
