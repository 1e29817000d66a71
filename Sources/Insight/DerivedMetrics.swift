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
    private var cycles: CompressorCycles?
    private var periods: EnergyPeriods
    /// Last accepted counter readings (kWh, after the unit factor) and their time.
    private var counters: (at: Double, values: [String: Double])?
    private let needed: Set<String>
    /// A defrost register named `defrost_active` already is the series: not exported twice.
    private let exportsDefrost: Bool

    static let scopInstances = DerivedSeries.scopPeriods.map {
        SeriesInstance(series: DerivedSeries.scop, labels: [SeriesLabel(name: "period", value: $0)])
    }

    public init(inputs: DerivedInputs, timeZone: TimeZone = .current) {
        self.inputs = inputs
        periods = EnergyPeriods(timeZone: timeZone)
        needed = Set(inputs.inputs.map(\.register))
        exportsDefrost = inputs.defrost.map { $0.register.register != DerivedSeries.defrostActive } ?? false
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
        for sample in samples where sample.instance == nil && needed.contains(sample.name) {
            let v = sample.value.doubleValue
            if v.isFinite { values[sample.name] = v }
        }
        func value(_ input: DerivedInput) -> Double? { values[input.register].map { $0 * input.factor } }
        func sample(_ name: String, _ value: SampleValue, instance: SeriesInstance? = nil) -> Sample {
            Sample(register: Sample.derivedRegister, name: name, value: value, instance: instance)
        }
        var out: [Sample] = []

        var defrosting = false
        if let defrost = inputs.defrost, let v = value(defrost.register) {
            defrosting = defrost.values.isEmpty ? v != 0 : defrost.values.contains(v)
            if exportsDefrost { out.append(sample(DerivedSeries.defrostActive, .int(defrosting ? 1 : 0))) }
        }

        var running: Bool?
        if let compressor = inputs.compressor, let v = value(compressor.register) {
            let on = compressor.source == .running ? v != 0 : v > compressor.minFrequency
            running = on
            cycles?.observe(at: time, running: on)
        }
        if let cycles, running != nil || cycles.starts > 0 || cycles.runSeconds > 0 {
            out.append(sample(DerivedSeries.compressorStarts, .int(Int64(cycles.starts))))
            out.append(sample(DerivedSeries.compressorRuntime, .double(cycles.runSeconds)))
            out.append(sample(DerivedSeries.shortCycling, .int(cycles.shortCycling ? 1 : 0)))
        }

        // COP of the running heat pump: not during a defrost (heat flows back) nor with the compressor off.
        if let cop = inputs.cop, !defrosting, running != false, let v = Self.cop(cop, value) {
            out.append(sample(DerivedSeries.cop, .double(v)))
        }

        if let scop = inputs.scop {
            accumulate(scop, value, at: time)
            for (index, period) in DerivedSeries.scopPeriods.enumerated() {
                if let v = periods.scop(period, at: time) {
                    out.append(sample("\(DerivedSeries.scop)_\(period)", .double(v), instance: Self.scopInstances[index]))
                }
            }
        }
        return out
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
        for input in scop.heat + scop.electrical {
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
        let heat = scop.heat.reduce(0) { $0 + (increases[$1.register] ?? 0) }
        let electrical = scop.electrical.reduce(0) { $0 + (increases[$1.register] ?? 0) }
        periods.add(heat: heat, electrical: electrical, at: time)
    }
}
