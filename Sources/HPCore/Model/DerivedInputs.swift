/// Which registers of a model feed which derived metric (`derived:` in a model): COP, SCOP,
/// compressor cycles, defrost. Empty when the model declares none: then no derived series exist.
///
/// Register names are plain (non-template) registers of the model. Each input carries the factor
/// that converts the register's unit to the formula's (kW, kWh, l/min, °C), set when the model is
/// resolved from the register's `unit`.
public struct DerivedInputs: Sendable, Hashable {
    public var cop: COPInputs?
    public var scop: SCOPInputs?
    public var compressor: CompressorInputs?
    public var defrost: DefrostInputs?
    /// Anomaly detection (`heatpump_anomaly_score` and its alert); see `AnomalyInputs`.
    public var anomaly: AnomalyInputs?

    public init(cop: COPInputs? = nil, scop: SCOPInputs? = nil, compressor: CompressorInputs? = nil, defrost: DefrostInputs? = nil,
                anomaly: AnomalyInputs? = nil) {
        self.cop = cop
        self.scop = scop
        self.compressor = compressor
        self.defrost = defrost
        self.anomaly = anomaly
    }

    public var isEmpty: Bool { cop == nil && scop == nil && compressor == nil && defrost == nil && anomaly == nil }

    /// Every register named, for validation and to read them from a poll.
    public var inputs: [DerivedInput] {
        var all: [DerivedInput] = []
        switch cop {
        case .power(let thermal, let electrical)?: all += [thermal, electrical]
        case .flow(let flow, let supply, let ret, let electrical, _)?: all += [flow, supply, ret, electrical]
        case nil: break
        }
        if let scop { all += scop.heat + scop.electrical }
        if let compressor { all.append(compressor.register) }
        if let defrost { all.append(defrost.register) }
        return all
    }

    /// The series the model exports (`cop`, `scop`, …), in the order the docs list them.
    public var seriesNames: [String] {
        var names: [String] = []
        if cop != nil { names.append(DerivedSeries.cop) }
        if scop != nil { names.append(DerivedSeries.scop) }
        if compressor != nil { names += [DerivedSeries.compressorStarts, DerivedSeries.compressorRuntime, DerivedSeries.shortCycling] }
        if defrost != nil { names.append(DerivedSeries.defrostActive) }
        if anomaly != nil { names.append(DerivedSeries.anomalyScore) }
        return names
    }
}

/// One register feeding a formula, and the factor from its unit to the formula's.
public struct DerivedInput: Sendable, Hashable {
    public var register: String
    public var factor: Double

    public init(register: String, factor: Double = 1) {
        self.register = register
        self.factor = factor
    }
}

/// COP from thermal ÷ electrical power, or from the flow, ΔT and the fluid.
public enum COPInputs: Sendable, Hashable {
    case power(thermal: DerivedInput, electrical: DerivedInput)
    case flow(flowRate: DerivedInput, flowTemp: DerivedInput, returnTemp: DerivedInput, electrical: DerivedInput, fluid: DerivedFluid)
}

/// The heat-transfer fluid of a flow-based COP.
public struct DerivedFluid: Sendable, Hashable {
    public enum Glycol: String, Sendable, Hashable { case propylene, ethylene }
    public var glycol: Glycol?
    /// Mass fraction of glycol, 0-0.6.
    public var fraction: Double

    public static let water = DerivedFluid(glycol: nil, fraction: 0)

    public init(glycol: Glycol?, fraction: Double) {
        self.glycol = glycol
        self.fraction = fraction
    }
}

/// SCOP from cumulative energy counters: heat (heating, plus hot water where separate) ÷ electricity.
public struct SCOPInputs: Sendable, Hashable {
    /// Heat counters, summed (kWh).
    public var heat: [DerivedInput]
    /// Electricity counters, summed (kWh).
    public var electrical: [DerivedInput]
    /// Largest plausible increase of a counter per hour (kWh/h): a larger jump is a glitch, ignored.
    public var maxPowerKW: Double
    /// Modulus of each counter, when it wraps (unsigned integer registers), by register name.
    public var wrapAt: [String: Double]

    public init(heat: [DerivedInput], electrical: [DerivedInput], maxPowerKW: Double = 1000, wrapAt: [String: Double] = [:]) {
        self.heat = heat
        self.electrical = electrical
        self.maxPowerKW = maxPowerKW
        self.wrapAt = wrapAt
    }
}

/// Whether the compressor runs: a running register (non-zero = on) or its frequency (above a minimum).
public struct CompressorInputs: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable { case running, frequency }
    public var source: Source
    public var register: DerivedInput
    /// Running when the frequency is above this (Hz); for `running` registers, when non-zero.
    public var minFrequency: Double
    /// Short-cycling thresholds (`heatpump_short_cycling`).
    public var maxStartsPerHour: Double
    public var minMedianRunSeconds: Double

    public init(source: Source, register: DerivedInput, minFrequency: Double = 0, maxStartsPerHour: Double = 6, minMedianRunSeconds: Double = 600) {
        self.source = source
        self.register = register
        self.minFrequency = minFrequency
        self.maxStartsPerHour = maxStartsPerHour
        self.minMedianRunSeconds = minMedianRunSeconds
    }
}

/// Whether a defrost runs: a register that is non-zero during defrost, or equals one of `values`
/// (an operating-mode enumeration, IDM's 8 = defrost).
public struct DefrostInputs: Sendable, Hashable {
    public var register: DerivedInput
    /// Raw values meaning "defrost"; empty: any non-zero value.
    public var values: [Double]

    public init(register: DerivedInput, values: [Double] = []) {
        self.register = register
        self.values = values
    }
}

/// The names of the derived series (`heatpump_<name>` metrics, InfluxDB fields): dashboards rely on them.
public enum DerivedSeries {
    public static let cop = "cop"
    public static let scop = "scop"
    public static let compressorStarts = "compressor_starts_total"
    public static let compressorRuntime = "compressor_runtime_seconds_total"
    public static let shortCycling = "short_cycling"
    public static let defrostActive = "defrost_active"
    public static let anomalyScore = "anomaly_score"
    /// `scop{period=…}`: each period is its own sample named `scop_<period>` (history, REST).
    public static let scopPeriods = ["day", "month", "season"]

    /// HELP texts of the metrics file.
    public static let help: [String: String] = [
        cop: "Coefficient of performance now: heat delivered / electricity used (derived; absent during defrost and standby).",
        scop: "Seasonal COP from the energy counters over the current day, month or heating season (from 1 July) (derived).",
        compressorStarts: "Compressor starts observed by the daemon (off to on between two polls) (derived).",
        compressorRuntime: "Compressor run time observed by the daemon, in seconds (derived).",
        shortCycling: "1 while the compressor is short-cycling (too many starts per hour or too short runs, with hysteresis), else 0 (derived).",
        defrostActive: "1 while a defrost runs, else 0 (derived).",
        anomalyScore: "How unusual this poll is, 0 (usual) to 1 (far outside the learnt range, stuck sensor, endless defrost, cycling) (derived).",
    ]
}
