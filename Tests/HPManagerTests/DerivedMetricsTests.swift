import Foundation
import HPCore
import Insight
import Sinks
import Testing

/// The per-device derived metrics (COP, SCOP, compressor cycles, defrost) fed poll by poll with
/// injected times, against hand-computed values.
@Suite("Derived metrics per device", .harnessThreads)
struct DerivedMetricsTests {
    static func samples(_ values: [String: Double]) -> [Sample] {
        values.sorted { $0.key < $1.key }.enumerated().map { Sample(register: $0.offset, name: $0.element.key, value: .double($0.element.value)) }
    }

    static func value(_ out: [Sample], _ name: String) -> Double? { out.first { $0.name == name }?.value.doubleValue }

    static let utc = TimeZone(identifier: "UTC") ?? .current

    @Test("COP = thermal ÷ electrical with unit factors; no COP during a defrost or with the compressor off; absent inputs give no series")
    func cop() {
        let inputs = DerivedInputs(cop: .power(thermal: DerivedInput(register: "q"), electrical: DerivedInput(register: "p", factor: 0.001)),
                                   compressor: CompressorInputs(source: .running, register: DerivedInput(register: "run")),
                                   defrost: DefrostInputs(register: DerivedInput(register: "mode"), values: [8]))
        var d = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        // 8.4 kW heat from 2100 W: COP 4.
        var out = d.observe(Self.samples(["q": 8.4, "p": 2100, "run": 1, "mode": 1]), at: 0)
        #expect(Self.value(out, "cop") == 8.4 / (2100 * 0.001) && Self.value(out, "defrost_active") == 0)
        out = d.observe(Self.samples(["q": 0, "p": 900, "run": 1, "mode": 8]), at: 10)
        #expect(Self.value(out, "cop") == nil && Self.value(out, "defrost_active") == 1, "defrost is excluded from COP")
        out = d.observe(Self.samples(["q": 0.1, "p": 60, "run": 0, "mode": 0]), at: 20)
        #expect(Self.value(out, "cop") == nil, "compressor off: no COP")
        out = d.observe(Self.samples(["q": 8.4, "run": 1, "mode": 1]), at: 30)
        #expect(Self.value(out, "cop") == nil && Self.value(out, "compressor_starts_total") == 1, "no electrical reading this poll: no COP")
        var none = DerivedMetrics(inputs: DerivedInputs(), timeZone: Self.utc)
        #expect(none.observe(Self.samples(["q": 8.4, "p": 2100]), at: 0).isEmpty, "a model without derived: exports nothing")
        var copOnly = DerivedMetrics(inputs: DerivedInputs(cop: inputs.cop), timeZone: Self.utc)
        #expect(copOnly.observe(Self.samples(["q": 8.4, "p": 2100]), at: 0).map(\.name) == ["cop"], "only the declared series")
    }

    @Test("COP from the flow: V̇ · ρ · c_p · ΔT at the mean temperature ÷ electrical power, glycol mixture as declared")
    func copFromFlow() throws {
        let fluid = DerivedFluid(glycol: .propylene, fraction: 0.3)
        let inputs = DerivedInputs(cop: .flow(flowRate: DerivedInput(register: "f"), flowTemp: DerivedInput(register: "ts"),
                                              returnTemp: DerivedInput(register: "tr"), electrical: DerivedInput(register: "p"), fluid: fluid))
        var d = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        let out = d.observe(Self.samples(["f": 20, "ts": 35, "tr": 30, "p": 1.5]), at: 0)
        let medium = HeatTransferFluid(glycol: .propylene, fraction: 0.3)
        let q = 20.0 / 60 * medium.density(celsius: 32.5) * medium.specificHeat(celsius: 32.5) * 5
        let cop = try #require(Self.value(out, "cop"))
        #expect(abs(cop - q / 1.5) < 1e-12, "\(cop)")
        var reversed = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        #expect(Self.value(reversed.observe(Self.samples(["f": 20, "ts": 30, "tr": 35, "p": 1.5]), at: 0), "cop") == nil, "negative ΔT: no COP")
    }

    @Test("compressor starts and run time from off→on transitions; nothing across a gap; a compressor frequency above its minimum is running")
    func compressor() {
        var d = DerivedMetrics(inputs: DerivedInputs(compressor: CompressorInputs(source: .frequency, register: DerivedInput(register: "hz"), minFrequency: 10)), timeZone: Self.utc)
        var out: [Sample] = []
        for (t, hz) in [(0.0, 0.0), (30, 40), (60, 45), (90, 5), (120, 50), (150, 0), (1000, 50), (1030, 0)] {
            out = d.observe(Self.samples(["hz": hz]), at: t)
            if t == 0 { #expect(Self.value(out, "compressor_starts_total") == 0, "the first poll already exports the counters") }
        }
        // Starts at 30 and 120 (5 Hz is off); runs 30→90 (60 s), 120→150 (30 s); 150→1000 is a gap; 1000→1030 runs 30 s.
        #expect(Self.value(out, "compressor_starts_total") == 2)
        #expect(Self.value(out, "compressor_runtime_seconds_total") == 120)
        #expect(out.first { $0.name == "compressor_starts_total" }?.value == .int(2), "an integer field in InfluxDB")
    }

    @Test("short-cycling raises above the starts/h limit and clears only below 75 % of it (hysteresis)")
    func shortCycling() {
        var d = DerivedMetrics(inputs: DerivedInputs(compressor: CompressorInputs(source: .running, register: DerivedInput(register: "run"),
                                                                                 maxStartsPerHour: 2, minMedianRunSeconds: 0)), timeZone: Self.utc)
        func at(_ t: Double, _ running: Bool) -> Double? { Self.value(d.observe(Self.samples(["run": running ? 1 : 0]), at: t), "short_cycling") }
        #expect(at(0, false) == 0)
        // Starts at 60, 180 and 300: the third start in an hour exceeds 2/h.
        var flags: [Double: Double] = [:]
        for t in stride(from: 60.0, through: 300, by: 60) { flags[t] = at(t, Int(t / 60) % 2 == 1) ?? -1 }
        #expect(flags[240] == 0 && flags[300] == 1, "\(flags)")
        var last: Double? = nil
        for t in stride(from: 360.0, through: 3720, by: 60) { last = at(t, false) }
        #expect(last == 1, "2 starts in the past hour: not above the limit, but not below 1.5 either")
        #expect(at(3780, false) == 0, "only the start at 300 is left in the past hour: cleared")
    }

    @Test("SCOP per day, month and season from energy counters; a missing reading, a reset and an implausible jump skip their interval; wraps count")
    func scop() throws {
        let t0 = 1_705_276_800.0  // 2024-01-15 00:00 UTC
        let inputs = DerivedInputs(scop: SCOPInputs(heat: [DerivedInput(register: "h")], electrical: [DerivedInput(register: "e")], maxPowerKW: 50))
        var d = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        func poll(_ hours: Double, _ values: [String: Double]) -> [Sample] { d.observe(Self.samples(values), at: t0 + hours * 3600) }
        #expect(poll(0, ["h": 100, "e": 50]).isEmpty, "one reading: no interval yet")
        var out = poll(1, ["h": 104, "e": 51])
        #expect(Self.value(out, "scop_day") == 4 && Self.value(out, "scop_month") == 4 && Self.value(out, "scop_season") == 4)
        let labels = out.compactMap { $0.instance?.labels.first }.map { "\($0.name)=\($0.value)" }
        #expect(labels == ["period=day", "period=month", "period=season"] && out.allSatisfy { $0.seriesName == "scop" })
        _ = poll(2, ["e": 52])  // heat counter missing: skipped, the next complete reading covers it
        out = poll(3, ["h": 110, "e": 53])
        #expect(Self.value(out, "scop_day") == 10.0 / 3, "(4 + 6) kWh over (1 + 2) kWh")
        _ = poll(4, ["h": 113, "e": 0])  // electricity counter reset: interval skipped
        out = poll(5, ["h": 116, "e": 1])
        #expect(Self.value(out, "scop_day") == 13.0 / 4)
        _ = poll(6, ["h": 616, "e": 1.5])  // 500 kWh in an hour from a 50 kW pump: a glitch, skipped
        out = poll(7, ["h": 620, "e": 2.5])
        #expect(Self.value(out, "scop_day") == 17.0 / 5)
        // Next day 00:30: the day starts over, month and season keep summing.
        out = poll(24.5, ["h": 624, "e": 3.5])
        #expect(Self.value(out, "scop_day") == 4 && Self.value(out, "scop_month") == 21.0 / 6 && Self.value(out, "scop_season") == 21.0 / 6)

        var wrapping = DerivedMetrics(inputs: DerivedInputs(scop: SCOPInputs(heat: [DerivedInput(register: "h")], electrical: [DerivedInput(register: "e")],
                                                                              wrapAt: ["h": 1000])), timeZone: Self.utc)
        _ = wrapping.observe(Self.samples(["h": 990, "e": 10]), at: t0)
        out = wrapping.observe(Self.samples(["h": 5, "e": 15]), at: t0 + 3600)
        #expect(Self.value(out, "scop_day") == 3, "990 → 5 at a modulus of 1000 is +15 kWh over 5 kWh")
    }

    @Test("derived samples reach InfluxDB without the prefix, SCOP with its period tag")
    func influx() throws {
        var d = DerivedMetrics(inputs: DerivedInputs(cop: .power(thermal: DerivedInput(register: "q"), electrical: DerivedInput(register: "p")),
                                                     scop: SCOPInputs(heat: [DerivedInput(register: "h")], electrical: [DerivedInput(register: "e")])), timeZone: Self.utc)
        _ = d.observe(Self.samples(["q": 8, "p": 2, "h": 10, "e": 1]), at: 1_705_276_800)
        let samples = Self.samples(["q": 8, "p": 2, "h": 14, "e": 2])
        let report = PollReport(device: DeviceLabels(id: "hp1", name: "", location: "", model: "m", manufacturer: ""), timestamp: 1_705_280_400,
                                samples: samples + d.observe(samples, at: 1_705_280_400), status: DeviceStatus(state: .polling, up: true))
        let text = try #require(LineProtocol.line(report, precision: .s))
        #expect(text.contains("cop=4.0"), "\(text)")
        #expect(text.contains("heatpump_metrics,heat_pump_id=hp1,model=m,period=day scop=4.0 1705280400"), "\(text)")
    }

    @Test("SCOP split per use: heating and hot water each from their own heat and electricity, the total from both; a use with too little electricity is absent")
    func scopSplit() throws {
        let t0 = 1_705_276_800.0  // 2024-01-15 00:00 UTC
        let h = DerivedInput(register: "h"), d = DerivedInput(register: "d"), eh = DerivedInput(register: "eh"), ed = DerivedInput(register: "ed")
        let inputs = DerivedInputs(scop: SCOPInputs(heat: [h, d], electrical: [eh, ed], uses: [SCOPUse(name: "heating", heat: [h], electrical: [eh]),
                                                                                              SCOPUse(name: "dhw", heat: [d], electrical: [ed])]))
        var m = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        func poll(_ hours: Double, _ values: [String: Double]) -> [Sample] { m.observe(Self.samples(values), at: t0 + hours * 3600) }
        _ = poll(0, ["h": 100, "d": 50, "eh": 30, "ed": 20])
        var out = poll(1, ["h": 104, "d": 53, "eh": 31, "ed": 21])
        #expect(Self.value(out, "scop_heating_day") == 4 && Self.value(out, "scop_dhw_day") == 3 && Self.value(out, "scop_day") == 3.5)
        let dhw = try #require(out.first { $0.name == "scop_dhw_month" })
        #expect(dhw.seriesName == "scop" && dhw.instance?.labels.map { "\($0.name)=\($0.value)" } == ["period=month", "use=dhw"])
        out = poll(2, ["h": 109, "d": 53, "eh": 32.25, "ed": 21])  // heating only this hour
        #expect(Self.value(out, "scop_heating_day") == 9 / 2.25 && Self.value(out, "scop_dhw_day") == 3 && Self.value(out, "scop_day") == 12 / 3.25)
        _ = poll(3, ["h": 109, "d": 53, "eh": 32.25])  // a use's counter missing: the interval waits for a complete poll
        out = poll(4, ["h": 113, "d": 54, "eh": 33.25, "ed": 21.5])
        #expect(Self.value(out, "scop_heating_day") == 13 / 3.25 && Self.value(out, "scop_dhw_day") == 4 / 1.5 && Self.value(out, "scop_day") == 17 / 4.75)

        var little = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        _ = little.observe(Self.samples(["h": 100, "d": 50, "eh": 30, "ed": 20]), at: t0)
        out = little.observe(Self.samples(["h": 104, "d": 50.2, "eh": 31, "ed": 20.05]), at: t0 + 3600)
        #expect(Self.value(out, "scop_heating_day") == 4 && Self.value(out, "scop_dhw_day") == nil, "0.05 kWh for hot water: below 0.1 kWh, no SCOP")

        let report = PollReport(device: DeviceLabels(id: "hp1", name: "", location: "", model: "m", manufacturer: ""), timestamp: t0 + 3600,
                                samples: out, status: DeviceStatus(state: .polling, up: true))
        let text = try #require(LineProtocol.line(report, precision: .s))
        #expect(text.contains("heatpump_metrics,heat_pump_id=hp1,model=m,period=day,use=heating scop=4.0"), "\(text)")
    }

    @Test("compressor starts per hour, mean run time per start, duty ratio over the observed hour and hours to the next service")
    func compressorRates() throws {
        var compressor = CompressorInputs(source: .running, register: DerivedInput(register: "run"), serviceIntervalHours: 0.5)
        var d = DerivedMetrics(inputs: DerivedInputs(compressor: compressor), timeZone: Self.utc)
        var out: [Sample] = []
        // Off until 60 s, on 600 s, off 300 s, on 300 s, off.
        for (t, run) in [(0.0, 0.0), (60, 1), (360, 1), (660, 0), (960, 1), (1260, 0), (1500, 0)] {  // at most 300 s apart: no gap
            out = d.observe(Self.samples(["run": run]), at: t)
        }
        #expect(Self.value(out, "compressor_starts_per_hour") == 2)
        #expect(Self.value(out, "compressor_run_seconds_per_start") == 450, "(600 + 300) / 2")
        #expect(Self.value(out, "compressor_duty_ratio") == 900.0 / 1500, "900 s running of 1500 s observed")
        #expect(Self.value(out, "compressor_service_due_hours") == 0.25, "0.5 h interval, 900 s counted: 0.25 h left")
        // 2500 s without a poll (a gap: neither running nor stopped), then off. The hour before 4000 s
        // starts at 400 s: 260 + 300 s running of 260 + 300 + 300 + 240 s observed; one start (960 s) in it.
        out = d.observe(Self.samples(["run": 0]), at: 4000)
        #expect(Self.value(out, "compressor_starts_per_hour") == 1)
        #expect(Self.value(out, "compressor_duty_ratio") == 560.0 / 1100)
        #expect(Self.value(out, "compressor_run_seconds_per_start") == 450)

        var fresh = DerivedMetrics(inputs: DerivedInputs(compressor: compressor), timeZone: Self.utc)
        out = fresh.observe(Self.samples(["run": 1]), at: 0)
        #expect(Self.value(out, "compressor_starts_per_hour") == 0 && Self.value(out, "compressor_run_seconds_per_start") == nil
                && Self.value(out, "compressor_duty_ratio") == nil, "no cycle and no observed time yet: no mean, no ratio")

        // The controller's operating hours, summed: 7990 + 15 = 8005 h, 8000 h interval: 7995 h to go.
        compressor.serviceIntervalHours = 8000
        compressor.operatingHours = [DerivedInput(register: "oh1"), DerivedInput(register: "oh2", factor: 1.0 / 60)]
        var hours = DerivedMetrics(inputs: DerivedInputs(compressor: compressor), timeZone: Self.utc)
        out = hours.observe(Self.samples(["run": 1, "oh1": 7990, "oh2": 900]), at: 0)
        #expect(Self.value(out, "compressor_service_due_hours") == 7995)
        out = hours.observe(Self.samples(["run": 1, "oh1": 7990]), at: 10)
        #expect(Self.value(out, "compressor_service_due_hours") == nil, "an hours register missing: no value, not a guess")
        var noInterval = DerivedMetrics(inputs: DerivedInputs(compressor: CompressorInputs(source: .running, register: DerivedInput(register: "run"))), timeZone: Self.utc)
        #expect(Self.value(noInterval.observe(Self.samples(["run": 1]), at: 0), "compressor_service_due_hours") == nil)
    }

    /// Heat flowing back at 20 l/min, supply 30 °C below return 33 °C (kW).
    static let heatBack = 20.0 / 60 * HeatTransferFluid.water.density(celsius: 31.5) * HeatTransferFluid.water.specificHeat(celsius: 31.5) * 3

    @Test("defrost from the mode register: seconds, heat taken back (flow × ΔT × c_p integrated), share of the compressor's run time; no COP meanwhile")
    func defrostFromRegister() throws {
        let energy = DefrostEnergyInputs(flowRate: DerivedInput(register: "f"), flowTemp: DerivedInput(register: "ts"), returnTemp: DerivedInput(register: "tr"))
        let inputs = DerivedInputs(cop: .flow(flowRate: energy.flowRate, flowTemp: energy.flowTemp, returnTemp: energy.returnTemp, electrical: DerivedInput(register: "p"), fluid: .water),
                                   compressor: CompressorInputs(source: .running, register: DerivedInput(register: "run")),
                                   defrost: DefrostInputs(register: DerivedInput(register: "mode"), values: [8]), defrostEnergy: energy)
        var d = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        let normal = ["run": 1.0, "mode": 1, "f": 20, "ts": 35, "tr": 30, "p": 2]
        let defrosting = ["run": 1.0, "mode": 8, "f": 20, "ts": 30, "tr": 33, "p": 2]
        var out = d.observe(Self.samples(normal), at: 0)
        #expect(Self.value(out, "defrost_active") == 0 && Self.value(out, "defrost_seconds_total") == 0 && Self.value(out, "defrost_energy_kwh_total") == 0)
        #expect(Self.value(out, "cop") != nil)
        out = d.observe(Self.samples(defrosting), at: 60)
        #expect(Self.value(out, "defrost_active") == 1 && Self.value(out, "cop") == nil, "a defrost is excluded from COP")
        out = d.observe(Self.samples(defrosting), at: 120)
        out = d.observe(Self.samples(normal), at: 180)
        #expect(Self.value(out, "defrost_active") == 0 && Self.value(out, "defrost_seconds_total") == 120)
        let kWh = try #require(Self.value(out, "defrost_energy_kwh_total"))
        #expect(abs(kWh - Self.heatBack * 120 / 3600) < 1e-12, "\(kWh) kWh")
        #expect(Self.value(out, "defrost_share") == 120.0 / 180, "120 s of defrost in 180 s of running")
    }

    @Test("defrost from ΔT reversal: supply below return while running, counted once it lasted min_duration (from its start); shorter ones and reversals at standstill are none")
    func defrostFromReversal() throws {
        let ts = DerivedInput(register: "ts"), tr = DerivedInput(register: "tr")
        let inputs = DerivedInputs(compressor: CompressorInputs(source: .running, register: DerivedInput(register: "run")),
                                   defrostReversal: DefrostReversalInputs(flowTemp: ts, returnTemp: tr, minDurationSeconds: 90),
                                   defrostEnergy: DefrostEnergyInputs(flowRate: DerivedInput(register: "f"), flowTemp: ts, returnTemp: tr))
        var d = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        let normal = ["run": 1.0, "f": 20, "ts": 35, "tr": 30], reversed = ["run": 1.0, "f": 20, "ts": 30, "tr": 33]
        var active: [Double?] = []
        var out: [Sample] = []
        for (t, values) in [(0.0, normal), (30, reversed), (60, reversed), (90, reversed), (120, reversed), (150, normal)] {
            out = d.observe(Self.samples(values), at: t)
            active.append(Self.value(out, "defrost_active"))
        }
        #expect(active == [0, 0, 0, 0, 1, 0], "confirmed at 120 s, 90 s after the reversal began")
        #expect(Self.value(out, "defrost_seconds_total") == 120, "30 s to 150 s, the unconfirmed part included")
        let kWh = try #require(Self.value(out, "defrost_energy_kwh_total"))
        #expect(abs(kWh - Self.heatBack * 120 / 3600) < 1e-12)
        // 30 s of reversal: too short. A reversal with the compressor off: no defrost.
        _ = d.observe(Self.samples(reversed), at: 180)
        _ = d.observe(Self.samples(normal), at: 210)
        out = d.observe(Self.samples(["run": 0, "f": 20, "ts": 30, "tr": 33]), at: 240)
        out = d.observe(Self.samples(["run": 0, "f": 20, "ts": 30, "tr": 33]), at: 400)
        #expect(Self.value(out, "defrost_seconds_total") == 120 && Self.value(out, "defrost_active") == 0)
        #expect(Self.value(out, "defrost_share") == 0.5, "120 s of 240 s running")

        // Saved mid-reversal and restored: the pending part is kept and confirmed after the restart.
        var before = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        for (t, values) in [(0.0, normal), (30, reversed), (60, reversed)] { _ = before.observe(Self.samples(values), at: t) }
        var after = DerivedMetrics(inputs: inputs, timeZone: Self.utc)
        let accepted = after.restore(try JSONDecoder().decode(DerivedState.self, from: JSONEncoder().encode(before.saved)), now: 70)
        #expect(accepted)
        _ = after.observe(Self.samples(reversed), at: 90)
        out = after.observe(Self.samples(reversed), at: 120)
        #expect(Self.value(out, "defrost_active") == 1 && Self.value(out, "defrost_seconds_total") == 90)
    }
}
