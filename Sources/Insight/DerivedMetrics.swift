import Foundation
import HPCore

/// The derived metrics of one device (COP, SCOP per period, compressor starts/run time,
/// short-cycling, defrost), computed from each successful poll's samples.
///
/// A value type with injected time (each poll's timestamp) and time zone: its owner (the device's
/// actor) calls `observe` once per poll, so no state is shared. Where the model lacks an input or a
/// poll lacks its value, the series is absent, never a made-up 0.
public struct DerivedMetrics: Sendable {
    public let inputs: DerivedInputs
    var cycles: CompressorCycles?
    var periods: EnergyPeriods
    /// Per use (`heating`, `dhw`) where the model separates them.
    var usePeriods: [String: EnergyPeriods] = [:]
    /// Last accepted counter readings (kWh, after the unit factor) and their time.
    var counters: (at: Double, values: [String: Double])?
    private let needed: Set<String>
    /// A defrost register named `defrost_active` already is the series: not exported twice.
    private let exportsDefrost: Bool
    var defrost: DefrostPeriods
    var comfort = ComfortTracker()

    static let scopInstances = DerivedSeries.scopPeriods.map {
        SeriesInstance(series: DerivedSeries.scop, labels: [SeriesLabel(name: "period", value: $0)])
    }
    /// `scop{period, use}` by use, in period order.
    static let scopUseInstances = Dictionary(uniqueKeysWithValues: DerivedSeries.scopUses.map { use in
        (use, DerivedSeries.scopPeriods.map {
            SeriesInstance(series: DerivedSeries.scop, labels: [SeriesLabel(name: "period", value: $0), SeriesLabel(name: "use", value: use)])
        })
    })

    public init(inputs: DerivedInputs, timeZone: TimeZone = .current) {
        self.inputs = inputs
        periods = EnergyPeriods(timeZone: timeZone)
        for use in inputs.scop?.uses ?? [] { usePeriods[use.name] = EnergyPeriods(timeZone: timeZone) }
        needed = Set(inputs.inputs.map(\.register))
        exportsDefrost = inputs.defrost.map { $0.register.register != DerivedSeries.defrostActive } ?? (inputs.defrostReversal != nil)
        defrost = DefrostPeriods(minDuration: inputs.defrost == nil ? inputs.defrostReversal?.minDurationSeconds ?? 0 : 0)
        if let compressor = inputs.compressor {
            var settings = CompressorCycles.Settings()
            settings.maxStartsPerHour = compressor.maxStartsPerHour
            settings.minMedianRunSeconds = compressor.minMedianRunSeconds
            cycles = CompressorCycles(settings: settings)
        }
    }

    /// Records one poll (wall-clock seconds `time`) and returns its derived samples.
    public mutating func observe(_ samples: [Sample], at time: Double) -> [Sample] {
        guard !inputs.isEmpty else { return [] }
        var values: [String: Double] = [:]
        // Template instances are matched by their full name (`climate_system_1.supply_setpoint`).
        for sample in samples where needed.contains(sample.name) {
            let v = sample.value.doubleValue
            if v.isFinite { values[sample.name] = v }
        }
        func value(_ input: DerivedInput) -> Double? { values[input.register].map { $0 * input.factor } }
        func sample(_ name: String, _ value: SampleValue, instance: SeriesInstance? = nil) -> Sample {
            Sample(register: Sample.derivedRegister, name: name, value: value, instance: instance)
        }
        var out: [Sample] = []

        var running: Bool?
        if let compressor = inputs.compressor, let v = value(compressor.register) {
            running = compressor.source == .running ? v != 0 : v > compressor.minFrequency
        }

        var defrosting = false
        var defrostSeen = false
        if let observed = Self.defrostObservation(inputs, running: running, value) {
            defrostSeen = true
            defrosting = defrost.observe(at: time, defrosting: observed, heatBackKW: Self.heatBack(inputs.defrostEnergy, value) ?? 0)
            if exportsDefrost { out.append(sample(DerivedSeries.defrostActive, .int(defrosting ? 1 : 0))) }
            out.append(sample(DerivedSeries.defrostSeconds, .double(defrost.seconds)))
            if inputs.defrostEnergy != nil { out.append(sample(DerivedSeries.defrostEnergy, .double(defrost.energyKWh))) }
        }

        if let running { cycles?.observe(at: time, running: running) }
        if let cycles, running != nil || cycles.starts > 0 || cycles.runSeconds > 0 {
            out.append(sample(DerivedSeries.compressorStarts, .int(Int64(cycles.starts))))
            out.append(sample(DerivedSeries.compressorRuntime, .double(cycles.runSeconds)))
            out.append(sample(DerivedSeries.shortCycling, .int(cycles.shortCycling ? 1 : 0)))
            out.append(sample(DerivedSeries.compressorStartsPerHour, .int(Int64(cycles.startsPerHour(at: time)))))
            if let mean = cycles.meanRunSeconds { out.append(sample(DerivedSeries.compressorRunPerStart, .double(mean))) }
            if let duty = cycles.dutyRatio(at: time) { out.append(sample(DerivedSeries.compressorDutyRatio, .double(duty))) }
        }
        if defrostSeen, let cycles, cycles.runSeconds > 0 {
            out.append(sample(DerivedSeries.defrostShare, .double(min(1, defrost.seconds / cycles.runSeconds))))
        }
        if let compressor = inputs.compressor, let due = Self.serviceDue(compressor, cycles: cycles, value) {
            out.append(sample(DerivedSeries.compressorServiceDue, .double(due)))
        }

        // COP of the running heat pump: not during a defrost (heat flows back) nor with the compressor off.
        if let cop = inputs.cop, !defrosting, running != false, let v = Self.cop(cop, value) {
            out.append(sample(DerivedSeries.cop, .double(v)))
        }

        if let comfortInputs = inputs.comfort {
            observeComfort(comfortInputs, value, at: time, into: &out)
        }

        if let scop = inputs.scop {
            accumulate(scop, value, at: time)
            for (index, period) in DerivedSeries.scopPeriods.enumerated() {
                if let v = periods.scop(period, at: time) {
                    out.append(sample("\(DerivedSeries.scop)_\(period)", .double(v), instance: Self.scopInstances[index]))
                }
            }
            for use in scop.uses {
                guard let sums = usePeriods[use.name], let instances = Self.scopUseInstances[use.name] else { continue }
                for (index, period) in DerivedSeries.scopPeriods.enumerated() {
                    if let v = sums.scop(period, at: time) {
                        out.append(sample("\(DerivedSeries.scop)_\(use.name)_\(period)", .double(v), instance: instances[index]))
                    }
                }
            }
        }
        return out
    }

    /// Supply vs the heating curve, hot water vs its setpoint, the controller's degree-minutes.
    private mutating func observeComfort(_ inputs: ComfortInputs, _ value: (DerivedInput) -> Double?, at time: Double, into out: inout [Sample]) {
        func sample(_ name: String, _ value: SampleValue) -> Sample { Sample(register: Sample.derivedRegister, name: name, value: value) }
        var deficit: Double?
        var supplyRead = false
        if let supply = inputs.supply, let temp = value(supply.temp), let target = Self.supplyTarget(supply.target, value) {
            supplyRead = true
            if case .curve = supply.target { out.append(sample(DerivedSeries.supplyTarget, .double(target))) }
            // Not heating (hot water, standby) or the condition unread: the curve does not apply now.
            let heating = supply.heating.map { condition in value(condition.register).map(condition.holds) ?? false } ?? true
            if heating {
                out.append(sample(DerivedSeries.supplyDeviation, .double(temp - target)))
                deficit = HeatingCurve.deficit(supply: temp, target: target)
            }
        }
        var below: Bool?
        if let dhw = inputs.dhw, let temp = value(dhw.temp), let setpoint = Self.dhwSetpoint(dhw.setpoint, value) {
            below = HeatingCurve.dhwBelow(temperature: temp, setpoint: setpoint, margin: dhw.margin)
            out.append(sample(DerivedSeries.dhwBelowSetpoint, .int(below == true ? 1 : 0)))
        }
        comfort.observe(at: time, deficit: deficit, dhwBelow: below)
        if inputs.supply != nil, supplyRead || comfort.deficitKelvinSeconds > 0 {
            out.append(sample(DerivedSeries.supplyDeficit, .double(comfort.deficitKelvinSeconds)))
        }
        if inputs.dhw != nil, below != nil || comfort.dhwBelowSeconds > 0 {
            out.append(sample(DerivedSeries.dhwBelowSetpointSeconds, .double(comfort.dhwBelowSeconds)))
        }
        // A register already named `degree_minute_balance` (NIBE's) is the series itself: not exported twice.
        if let register = inputs.degreeMinutes, register.register != DerivedSeries.degreeMinutes, let v = value(register) {
            out.append(sample(DerivedSeries.degreeMinutes, .double(v)))
        }
    }

    static func supplyTarget(_ target: SupplyCurveInputs.Target, _ value: (DerivedInput) -> Double?) -> Double? {
        switch target {
        case .register(let register): return value(register)
        case .curve(let outdoor, let points): return value(outdoor).flatMap { HeatingCurve.target(outdoor: $0, points: points) }
        }
    }

    static func dhwSetpoint(_ setpoint: DHWComfortInputs.Setpoint, _ value: (DerivedInput) -> Double?) -> Double? {
        switch setpoint {
        case .register(let register): return value(register)
        case .fixed(let celsius): return celsius
        }
    }

    /// Whether this poll shows a defrost: the register's value, else a ΔT reversal (supply below return)
    /// while the compressor runs; nil when the poll lacks the inputs.
    static func defrostObservation(_ inputs: DerivedInputs, running: Bool?, _ value: (DerivedInput) -> Double?) -> Bool? {
        if let defrost = inputs.defrost {
            guard let v = value(defrost.register) else { return nil }
            return defrost.values.isEmpty ? v != 0 : defrost.values.contains(v)
        }
        guard let reversal = inputs.defrostReversal, let running, let supply = value(reversal.flowTemp), let ret = value(reversal.returnTemp) else { return nil }
        return running && supply < ret
    }

    /// The heat flowing back from the water now (kW, ≥ 0): V̇ · ρ · c_p · (T_return − T_supply); nil without inputs.
    static func heatBack(_ inputs: DefrostEnergyInputs?, _ value: (DerivedInput) -> Double?) -> Double? {
        guard let inputs, let f = value(inputs.flowRate), let ts = value(inputs.flowTemp), let tr = value(inputs.returnTemp),
              let q = COP.thermalPower(flowLitresPerMinute: f, supplyCelsius: ts, returnCelsius: tr, fluid: medium(inputs.fluid)) else { return nil }
        return max(0, -q)
    }

    static func medium(_ fluid: DerivedFluid) -> HeatTransferFluid {
        HeatTransferFluid(glycol: fluid.glycol.map { $0 == .propylene ? .propylene : .ethylene }, fraction: fluid.fraction)
    }

    /// Hours to the next service: the interval minus the operating hours since its last multiple. The
    /// hours are the controller's registers (summed) where declared, else the run time counted here.
    static func serviceDue(_ compressor: CompressorInputs, cycles: CompressorCycles?, _ value: (DerivedInput) -> Double?) -> Double? {
        guard let interval = compressor.serviceIntervalHours, interval > 0 else { return nil }
        var hours = 0.0
        if compressor.operatingHours.isEmpty {
            guard let cycles else { return nil }
            hours = cycles.runSeconds / 3600
        } else {
            for input in compressor.operatingHours {
                guard let v = value(input) else { return nil }
                hours += v
            }
        }
        guard hours.isFinite, hours >= 0 else { return nil }
        return interval - hours.truncatingRemainder(dividingBy: interval)
    }

    static func cop(_ inputs: COPInputs, _ value: (DerivedInput) -> Double?) -> Double? {
        switch inputs {
        case .power(let thermal, let electrical):
            guard let q = value(thermal), let p = value(electrical) else { return nil }
            return COP.instantaneous(thermalKW: q, electricalKW: p)
        case .flow(let flow, let supply, let ret, let electrical, let fluid):
            guard let f = value(flow), let ts = value(supply), let tr = value(ret), let p = value(electrical) else { return nil }
            let medium = HeatTransferFluid(glycol: fluid.glycol.map { $0 == .propylene ? .propylene : .ethylene }, fraction: fluid.fraction)
            return COP.fromFlow(flowLitresPerMinute: f, supplyCelsius: ts, returnCelsius: tr, electricalKW: p, fluid: medium)
        }
    }

    /// Adds the counters' increase since the last complete reading to the periods. A poll missing a
    /// counter is skipped whole (the next complete one covers the interval); a reset, wrap-less drop or
    /// implausible jump of any counter skips the interval for all, so heat and electricity stay paired.
    private mutating func accumulate(_ scop: SCOPInputs, _ value: (DerivedInput) -> Double?, at time: Double) {
        var current: [String: Double] = [:]
        for input in scop.counters {
            guard let v = value(input) else { return }
            current[input.register] = v
        }
        defer { counters = (time, current) }
        guard let previous = counters, time > previous.at else { return }
        let hours = (time - previous.at) / 3600
        var increases: [String: Double] = [:]
        for (name, v) in current {
            guard let before = previous.values[name] else { return }
            guard case .increase(let d) = CounterDelta.between(before, v, hours: hours, wrapAt: scop.wrapAt[name], maxRatePerHour: scop.maxPowerKW) else { return }
            increases[name] = d
        }
        func sum(_ counters: [DerivedInput]) -> Double { counters.reduce(0) { $0 + (increases[$1.register] ?? 0) } }
        periods.add(heat: sum(scop.heat), electrical: sum(scop.electrical), at: time)
        for use in scop.uses { usePeriods[use.name]?.add(heat: sum(use.heat), electrical: sum(use.electrical), at: time) }
    }
}
