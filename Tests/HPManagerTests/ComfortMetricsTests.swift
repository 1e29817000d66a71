import Foundation
import HPCore
import Insight
import Testing

/// Comfort and heating-curve metrics fed poll by poll with injected times, against hand-computed values.
@Suite("Comfort and curve metrics", .harnessThreads)
struct ComfortMetricsTests {
    static func samples(_ values: [String: Double]) -> [Sample] {
        values.sorted { $0.key < $1.key }.enumerated().map { Sample(register: $0.offset, name: $0.element.key, value: .double($0.element.value)) }
    }

    static func value(_ out: [Sample], _ name: String) -> Double? { out.first { $0.name == name }?.value.doubleValue }

    static let curve = [CurvePoint(outdoor: -15, supply: 50), CurvePoint(outdoor: 0, supply: 40), CurvePoint(outdoor: 20, supply: 25)]

    @Test("a declared curve: linear between its points, its end points' supply beyond them")
    func curveTarget() throws {
        #expect(HeatingCurve.target(outdoor: -20, points: Self.curve) == 50, "colder than the first point: flat")
        #expect(HeatingCurve.target(outdoor: -15, points: Self.curve) == 50)
        // Halfway between -15 (50 °C) and 0 (40 °C): 45 °C. A quarter of the way from 0 to 20 (40 → 25): 36.25 °C.
        #expect(HeatingCurve.target(outdoor: -7.5, points: Self.curve) == 45)
        #expect(HeatingCurve.target(outdoor: 5, points: Self.curve) == 36.25)
        #expect(HeatingCurve.target(outdoor: 0, points: Self.curve) == 40)
        #expect(HeatingCurve.target(outdoor: 30, points: Self.curve) == 25, "warmer than the last point: flat")
        #expect(HeatingCurve.target(outdoor: .nan, points: Self.curve) == nil)
        #expect(HeatingCurve.target(outdoor: 0, points: []) == nil)
        #expect(HeatingCurve.deficit(supply: 38, target: 40) == 2 && HeatingCurve.deficit(supply: 42, target: 40) == 0)
        #expect(HeatingCurve.dhwBelow(temperature: 44, setpoint: 48, margin: 5) == false && HeatingCurve.dhwBelow(temperature: 42.9, setpoint: 48, margin: 5))
        #expect(HeatingCurve.dhwBelow(temperature: 47.9, setpoint: 48, margin: 0) && !HeatingCurve.dhwBelow(temperature: 48, setpoint: 48, margin: 0))
    }

    @Test("supply vs a target register while heating: deviation each poll, shortfall integrated in kelvin-seconds at each interval's start state")
    func supplyAgainstRegister() throws {
        let inputs = DerivedInputs(comfort: ComfortInputs(supply: SupplyCurveInputs(temp: DerivedInput(register: "supply"),
                                                                                    target: .register(DerivedInput(register: "target")),
                                                                                    heating: DerivedCondition(register: DerivedInput(register: "priority"), values: [30]))))
        var d = DerivedMetrics(inputs: inputs)
        // t=0: 3 K short while heating. t=60: at target. t=120: hot water (priority 20): no deviation, nothing accrues after.
        var out = d.observe(Self.samples(["supply": 32, "target": 35, "priority": 30]), at: 0)
        #expect(Self.value(out, "supply_deviation_celsius") == -3 && Self.value(out, "supply_deficit_kelvin_seconds_total") == 0)
        #expect(Self.value(out, "supply_target_celsius") == nil, "a target register is exported as itself, not again")
        out = d.observe(Self.samples(["supply": 35.5, "target": 35, "priority": 30]), at: 60)
        // The interval 0–60 s counts at its start: 3 K × 60 s.
        #expect(Self.value(out, "supply_deviation_celsius") == 0.5 && Self.value(out, "supply_deficit_kelvin_seconds_total") == 180)
        out = d.observe(Self.samples(["supply": 55, "target": 35, "priority": 20]), at: 120)
        #expect(Self.value(out, "supply_deviation_celsius") == nil, "not heating: the curve does not apply")
        #expect(Self.value(out, "supply_deficit_kelvin_seconds_total") == 180, "at target in 60–120 s")
        out = d.observe(Self.samples(["supply": 20, "target": 35, "priority": 20]), at: 180)
        #expect(Self.value(out, "supply_deficit_kelvin_seconds_total") == 180, "not heating in 120–180 s: nothing accrues")
        out = d.observe(Self.samples(["supply": 30, "target": 35, "priority": 30]), at: 240)
        out = d.observe(Self.samples(["supply": 30, "target": 35, "priority": 30]), at: 270)
        #expect(Self.value(out, "supply_deficit_kelvin_seconds_total") == 330, "5 K × 30 s more")
        // A gap longer than 300 s: what happened then is unknown, nothing accrues.
        out = d.observe(Self.samples(["supply": 30, "target": 35, "priority": 30]), at: 1000)
        #expect(Self.value(out, "supply_deficit_kelvin_seconds_total") == 330)
        // The priority unread: not known to be heating, no deviation; the counter stays (already counting).
        out = d.observe(Self.samples(["supply": 30, "target": 35]), at: 1010)
        #expect(Self.value(out, "supply_deviation_celsius") == nil && Self.value(out, "supply_deficit_kelvin_seconds_total") == 330 + 5 * 10)
    }

    @Test("a declared curve without a heating condition: target from the outdoor temperature, exported; counting always")
    func supplyAgainstCurve() throws {
        let inputs = DerivedInputs(comfort: ComfortInputs(supply: SupplyCurveInputs(temp: DerivedInput(register: "supply"),
                                                                                    target: .curve(outdoor: DerivedInput(register: "outdoor"), points: Self.curve))))
        var d = DerivedMetrics(inputs: inputs)
        var out = d.observe(Self.samples(["supply": 40, "outdoor": -7.5]), at: 0)
        #expect(Self.value(out, "supply_target_celsius") == 45 && Self.value(out, "supply_deviation_celsius") == -5)
        out = d.observe(Self.samples(["supply": 40, "outdoor": 5]), at: 120)
        #expect(Self.value(out, "supply_target_celsius") == 36.25 && Self.value(out, "supply_deviation_celsius") == 3.75)
        #expect(Self.value(out, "supply_deficit_kelvin_seconds_total") == 600, "5 K for 120 s")
        var none = DerivedMetrics(inputs: inputs)
        out = none.observe(Self.samples(["supply": 40]), at: 0)
        #expect(out.isEmpty, "no outdoor reading, nothing counted yet: no comfort series, not a 0: \(out.map(\.name))")
    }

    @Test("hot water below its setpoint minus the margin: 0/1 each poll and the seconds below; a fixed setpoint")
    func dhw() throws {
        let inputs = DerivedInputs(comfort: ComfortInputs(dhw: DHWComfortInputs(temp: DerivedInput(register: "tank"),
                                                                               setpoint: .register(DerivedInput(register: "set")), margin: 5)))
        var d = DerivedMetrics(inputs: inputs)
        var out = d.observe(Self.samples(["tank": 44, "set": 48]), at: 0)
        #expect(Self.value(out, "dhw_below_setpoint") == 0 && Self.value(out, "dhw_below_setpoint_seconds_total") == 0, "within the margin")
        out = d.observe(Self.samples(["tank": 42, "set": 48]), at: 30)
        #expect(Self.value(out, "dhw_below_setpoint") == 1 && Self.value(out, "dhw_below_setpoint_seconds_total") == 0)
        out = d.observe(Self.samples(["tank": 50, "set": 48]), at: 100)
        #expect(Self.value(out, "dhw_below_setpoint") == 0 && Self.value(out, "dhw_below_setpoint_seconds_total") == 70)
        out = d.observe(Self.samples(["set": 48]), at: 110)
        #expect(Self.value(out, "dhw_below_setpoint") == nil && Self.value(out, "dhw_below_setpoint_seconds_total") == 70, "tank unread: no flag, the counter stays")
        #expect(out.first { $0.name == "dhw_below_setpoint" }?.value == nil)

        var fixed = DerivedMetrics(inputs: DerivedInputs(comfort: ComfortInputs(dhw: DHWComfortInputs(temp: DerivedInput(register: "tank"), setpoint: .fixed(45)))))
        out = fixed.observe(Self.samples(["tank": 44.9]), at: 0)
        #expect(out.first { $0.name == "dhw_below_setpoint" }?.value == .int(1), "an integer field in InfluxDB")
    }

    @Test("the controller's degree-minutes pass through; a template instance feeds a formula by its full name")
    func degreeMinutesAndInstances() throws {
        let instance = SeriesInstance(series: "climate_system_supply_setpoint", labels: [SeriesLabel(name: "climate_system", value: "1")])
        let inputs = DerivedInputs(comfort: ComfortInputs(supply: SupplyCurveInputs(temp: DerivedInput(register: "supply"),
                                                                                    target: .register(DerivedInput(register: "climate_system_1.supply_setpoint"))),
                                                          degreeMinutes: DerivedInput(register: "dm")))
        var d = DerivedMetrics(inputs: inputs)
        let samples = [Sample(register: 0, name: "supply", value: .double(33)), Sample(register: 1, name: "dm", value: .double(-120)),
                       Sample(register: 2, name: "climate_system_1.supply_setpoint", value: .double(34.5), instance: instance)]
        let out = d.observe(samples, at: 0)
        #expect(Self.value(out, "degree_minute_balance") == -120)
        #expect(Self.value(out, "supply_deviation_celsius") == -1.5, "the instance's value is the target")
    }

    @Test("the comfort integrals survive a restart; rows without them (saved before) restore the rest; implausible ones are refused")
    func state() throws {
        let inputs = DerivedInputs(comfort: ComfortInputs(supply: SupplyCurveInputs(temp: DerivedInput(register: "supply"), target: .register(DerivedInput(register: "target"))),
                                                          dhw: DHWComfortInputs(temp: DerivedInput(register: "tank"), setpoint: .fixed(45))))
        var d = DerivedMetrics(inputs: inputs)
        _ = d.observe(Self.samples(["supply": 30, "target": 36, "tank": 40]), at: 1000)
        _ = d.observe(Self.samples(["supply": 30, "target": 36, "tank": 40]), at: 1060)
        let saved = d.saved
        #expect(saved.comfort?.deficitKelvinSeconds == 360 && saved.comfort?.dhwBelowSeconds == 60)
        let json = try JSONEncoder().encode(saved)
        let decoded = try JSONDecoder().decode(DerivedState.self, from: json)
        var restored = DerivedMetrics(inputs: inputs)
        let restoredOK = restored.restore(decoded, now: 1070)
        #expect(restoredOK)
        // The restart took 10 s (within the gap): the interval from the last saved poll counts.
        let out = restored.observe(Self.samples(["supply": 36, "target": 36, "tank": 50]), at: 1070)
        #expect(Self.value(out, "supply_deficit_kelvin_seconds_total") == 420 && Self.value(out, "dhw_below_setpoint_seconds_total") == 70)

        var old = saved
        old.comfort = nil
        var fromOld = DerivedMetrics(inputs: inputs)
        let oldOK = fromOld.restore(old, now: 1070)
        #expect(oldOK, "a row saved before comfort existed still restores")
        #expect(fromOld.saved.comfort?.deficitKelvinSeconds == 0)
        var bad = saved
        bad.comfort?.dhwBelowSeconds = -1
        #expect(!bad.isPlausible)
        bad = saved
        bad.comfort?.deficitKelvinSeconds = .infinity
        #expect(!bad.isPlausible)
    }

    @Test("comfort is not part of the fingerprint: adding it keeps the compressor and SCOP counters")
    func fingerprint() {
        let compressor = CompressorInputs(source: .running, register: DerivedInput(register: "run"))
        let without = DerivedInputs(compressor: compressor)
        let with = DerivedInputs(compressor: compressor, comfort: ComfortInputs(degreeMinutes: DerivedInput(register: "dm")))
        #expect(without.fingerprint == with.fingerprint)
        #expect(with.seriesNames.contains("degree_minute_balance") && !with.isEmpty)
    }
}
