/// Which registers of a model feed which derived metric (`derived:` in a model): COP, SCOP,
/// compressor cycles, defrost. Empty when the model declares none: then no derived series exist.
///
/// Register names are plain (non-template) registers of the model. Each input carries the factor
/// that converts the register's unit to the formula's (kW, kWh, l/min, °C), set when the model is
/// resolved from the register's `unit`.
public struct DerivedInputs: Sendable, Hashable, Codable {
    public var cop: COPInputs?
    public var scop: SCOPInputs?
    public var compressor: CompressorInputs?
    public var defrost: DefrostInputs?
    /// Defrost from ΔT reversal, for a model without a defrost register (`defrost: {flow_temp, return_temp}`).
    public var defrostReversal: DefrostReversalInputs?
    /// The heat a defrost takes back from the water (`heatpump_defrost_energy_kwh_total`).
    public var defrostEnergy: DefrostEnergyInputs?
    /// Anomaly detection (`heatpump_anomaly_score` and its alert); see `AnomalyInputs`. Not part of the
    /// encoded form (the fingerprint of saved derived state): the anomaly model persists on its own
    /// and checks its own registers, so tuning it does not reset the counters.
    public var anomaly: AnomalyInputs?
    /// Supply vs heating curve, hot water vs setpoint, degree-minutes; see `ComfortInputs`. Not part
    /// of the encoded form either: tuning comfort must not reset the compressor and SCOP counters.
    public var comfort: ComfortInputs?

    enum CodingKeys: String, CodingKey {
        case cop, scop, compressor, defrost, defrostReversal, defrostEnergy
    }

    public init(cop: COPInputs? = nil, scop: SCOPInputs? = nil, compressor: CompressorInputs? = nil, defrost: DefrostInputs? = nil,
                defrostReversal: DefrostReversalInputs? = nil, defrostEnergy: DefrostEnergyInputs? = nil, anomaly: AnomalyInputs? = nil,
                comfort: ComfortInputs? = nil) {
        self.cop = cop
        self.scop = scop
        self.compressor = compressor
        self.defrost = defrost
        self.defrostReversal = defrostReversal
        self.defrostEnergy = defrostEnergy
        self.anomaly = anomaly
        self.comfort = comfort
    }

    public var isEmpty: Bool { cop == nil && scop == nil && compressor == nil && defrost == nil && defrostReversal == nil && anomaly == nil && comfort == nil }

    /// Whether defrosts are detected (from a register or from ΔT reversal).
    public var detectsDefrost: Bool { defrost != nil || defrostReversal != nil }

    /// Every register named, for validation and to read them from a poll.
    public var inputs: [DerivedInput] {
        var all: [DerivedInput] = []
        switch cop {
        case .power(let thermal, let electrical)?: all += [thermal, electrical]
        case .flow(let flow, let supply, let ret, let electrical, _)?: all += [flow, supply, ret, electrical]
        case nil: break
        }
        if let scop { all += scop.counters }
        if let compressor { all += [compressor.register] + compressor.operatingHours }
        if let defrost { all.append(defrost.register) }
        if let r = defrostReversal { all += [r.flowTemp, r.returnTemp] }
        if let e = defrostEnergy { all += [e.flowRate, e.flowTemp, e.returnTemp] }
        if let comfort { all += comfort.inputs }
        return all
    }

    /// The series the model exports (`cop`, `scop`, …), in the order the docs list them.
    public var seriesNames: [String] {
        var names: [String] = []
        if cop != nil { names.append(DerivedSeries.cop) }
        if scop != nil { names.append(DerivedSeries.scop) }
        if let compressor {
            names += [DerivedSeries.compressorStarts, DerivedSeries.compressorRuntime, DerivedSeries.shortCycling, DerivedSeries.compressorStartsPerHour,
                      DerivedSeries.compressorRunPerStart, DerivedSeries.compressorDutyRatio]
            if compressor.serviceIntervalHours != nil { names.append(DerivedSeries.compressorServiceDue) }
        }
        if detectsDefrost {
            names += [DerivedSeries.defrostActive, DerivedSeries.defrostSeconds]
            if compressor != nil { names.append(DerivedSeries.defrostShare) }
            if defrostEnergy != nil { names.append(DerivedSeries.defrostEnergy) }
        }
        if let comfort {
            if let supply = comfort.supply {
                if case .curve = supply.target { names.append(DerivedSeries.supplyTarget) }
                names += [DerivedSeries.supplyDeviation, DerivedSeries.supplyDeficit]
            }
            if comfort.dhw != nil { names += [DerivedSeries.dhwBelowSetpoint, DerivedSeries.dhwBelowSetpointSeconds] }
            if comfort.degreeMinutes != nil { names.append(DerivedSeries.degreeMinutes) }
        }
        if anomaly != nil { names.append(DerivedSeries.anomalyScore) }
        return names
    }
}

/// One register feeding a formula, and the factor from its unit to the formula's.
public struct DerivedInput: Sendable, Hashable, Codable {
    public var register: String
    public var factor: Double

    public init(register: String, factor: Double = 1) {
        self.register = register
        self.factor = factor
    }
}

/// COP from thermal ÷ electrical power, or from the flow, ΔT and the fluid.
public enum COPInputs: Sendable, Hashable, Codable {
    case power(thermal: DerivedInput, electrical: DerivedInput)
    case flow(flowRate: DerivedInput, flowTemp: DerivedInput, returnTemp: DerivedInput, electrical: DerivedInput, fluid: DerivedFluid)
}

/// The heat-transfer fluid of a flow-based COP.
public struct DerivedFluid: Sendable, Hashable, Codable {
    public enum Glycol: String, Sendable, Hashable, Codable { case propylene, ethylene }
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
public struct SCOPInputs: Sendable, Hashable, Codable {
    /// Heat counters, summed (kWh).
    public var heat: [DerivedInput]
    /// Electricity counters, summed (kWh).
    public var electrical: [DerivedInput]
    /// Largest plausible increase of a counter per hour (kWh/h): a larger jump is a glitch, ignored.
    public var maxPowerKW: Double
    /// Modulus of each counter, when it wraps (unsigned integer registers), by register name.
    public var wrapAt: [String: Double]
    /// SCOP per use (`heating`, `dhw`), where the model has heat and electricity counters for each;
    /// empty when it cannot separate them (one electricity counter): then only the total exists.
    public var uses: [SCOPUse]

    public init(heat: [DerivedInput], electrical: [DerivedInput], maxPowerKW: Double = 1000, wrapAt: [String: Double] = [:], uses: [SCOPUse] = []) {
        self.heat = heat
        self.electrical = electrical
        self.maxPowerKW = maxPowerKW
        self.wrapAt = wrapAt
        self.uses = uses
    }

    /// Every counter of the total and the uses, each once.
    public var counters: [DerivedInput] {
        var seen: Set<String> = []
        return (heat + electrical + uses.flatMap { $0.heat + $0.electrical }).filter { seen.insert($0.register).inserted }
    }
}

/// The heat and electricity counters of one use of the heat (`heating` or `dhw`), for `scop{use=…}`.
public struct SCOPUse: Sendable, Hashable, Codable {
    /// The `use` label: `heating` or `dhw`.
    public var name: String
    public var heat: [DerivedInput]
    public var electrical: [DerivedInput]

    public init(name: String, heat: [DerivedInput], electrical: [DerivedInput]) {
        self.name = name
        self.heat = heat
        self.electrical = electrical
    }
}

/// Whether the compressor runs: a running register (non-zero = on) or its frequency (above a minimum).
public struct CompressorInputs: Sendable, Hashable, Codable {
    public enum Source: String, Sendable, Hashable, Codable { case running, frequency }
    public var source: Source
    public var register: DerivedInput
    /// Running when the frequency is above this (Hz); for `running` registers, when non-zero.
    public var minFrequency: Double
    /// Short-cycling thresholds (`heatpump_short_cycling`).
    public var maxStartsPerHour: Double
    public var minMedianRunSeconds: Double
    /// Hours of running between services (`service_interval`); nil: no `compressor_service_due_hours`.
    public var serviceIntervalHours: Double?
    /// The controller's compressor operating-hours registers (summed, in hours); empty: the run time
    /// the daemon counted stands in.
    public var operatingHours: [DerivedInput]

    public init(source: Source, register: DerivedInput, minFrequency: Double = 0, maxStartsPerHour: Double = 6, minMedianRunSeconds: Double = 600,
                serviceIntervalHours: Double? = nil, operatingHours: [DerivedInput] = []) {
        self.source = source
        self.register = register
        self.minFrequency = minFrequency
        self.maxStartsPerHour = maxStartsPerHour
        self.minMedianRunSeconds = minMedianRunSeconds
        self.serviceIntervalHours = serviceIntervalHours
        self.operatingHours = operatingHours
    }
}

/// Whether a defrost runs: a register that is non-zero during defrost, or equals one of `values`
/// (an operating-mode enumeration, IDM's 8 = defrost).
public struct DefrostInputs: Sendable, Hashable, Codable {
    public var register: DerivedInput
    /// Raw values meaning "defrost"; empty: any non-zero value.
    public var values: [Double]

    public init(register: DerivedInput, values: [Double] = []) {
        self.register = register
        self.values = values
    }
}

/// Defrost from ΔT reversal: supply below return while the compressor runs, for at least `minDurationSeconds`.
public struct DefrostReversalInputs: Sendable, Hashable, Codable {
    public var flowTemp: DerivedInput
    public var returnTemp: DerivedInput
    public var minDurationSeconds: Double

    public init(flowTemp: DerivedInput, returnTemp: DerivedInput, minDurationSeconds: Double = 60) {
        self.flowTemp = flowTemp
        self.returnTemp = returnTemp
        self.minDurationSeconds = minDurationSeconds
    }
}

/// The water-side flow and temperatures that give the heat a defrost takes back: V̇ · ρ · c_p · (T_return − T_supply).
public struct DefrostEnergyInputs: Sendable, Hashable, Codable {
    public var flowRate: DerivedInput
    public var flowTemp: DerivedInput
    public var returnTemp: DerivedInput
    public var fluid: DerivedFluid

    public init(flowRate: DerivedInput, flowTemp: DerivedInput, returnTemp: DerivedInput, fluid: DerivedFluid = .water) {
        self.flowRate = flowRate
        self.flowTemp = flowTemp
        self.returnTemp = returnTemp
        self.fluid = fluid
    }
}

/// The names of the derived series (`heatpump_<name>` metrics, InfluxDB fields): dashboards rely on them.
public enum DerivedSeries {
    public static let cop = "cop"
    public static let scop = "scop"
    public static let compressorStarts = "compressor_starts_total"
    public static let compressorRuntime = "compressor_runtime_seconds_total"
    public static let shortCycling = "short_cycling"
    public static let compressorStartsPerHour = "compressor_starts_per_hour"
    public static let compressorRunPerStart = "compressor_run_seconds_per_start"
    public static let compressorDutyRatio = "compressor_duty_ratio"
    public static let compressorServiceDue = "compressor_service_due_hours"
    public static let defrostActive = "defrost_active"
    public static let anomalyScore = "anomaly_score"
    public static let defrostSeconds = "defrost_seconds_total"
    public static let defrostShare = "defrost_share"
    public static let defrostEnergy = "defrost_energy_kwh_total"
    public static let supplyTarget = "supply_target_celsius"
    public static let supplyDeviation = "supply_deviation_celsius"
    public static let supplyDeficit = "supply_deficit_kelvin_seconds_total"
    public static let dhwBelowSetpoint = "dhw_below_setpoint"
    public static let dhwBelowSetpointSeconds = "dhw_below_setpoint_seconds_total"
    public static let degreeMinutes = "degree_minute_balance"
    /// Every comfort series, for collision checks.
    public static let comfortSeries = [supplyTarget, supplyDeviation, supplyDeficit, dhwBelowSetpoint, dhwBelowSetpointSeconds, degreeMinutes]
    /// `scop{period=…}`: each period is its own sample named `scop_<period>` (history, REST).
    public static let scopPeriods = ["day", "month", "season"]
    /// `scop{period=…, use=…}`: sample `scop_<use>_<period>`.
    public static let scopUses = ["heating", "dhw"]

    /// HELP texts of the metrics file.
    public static let help: [String: String] = [
        cop: "Coefficient of performance now: heat delivered / electricity used (derived; absent during defrost and standby).",
        scop: "Seasonal COP from the energy counters over the current day, month or heating season (from 1 July); with use=heating|dhw where the model counts electricity per use (derived).",
        compressorStarts: "Compressor starts observed by the daemon (off to on between two polls) (derived).",
        compressorRuntime: "Compressor run time observed by the daemon, in seconds (derived).",
        compressorStartsPerHour: "Compressor starts in the past hour (derived; covers only the observed time in the first hour after a start of the daemon).",
        compressorRunPerStart: "Mean run time of the compressor's last completed cycles (up to 6), in seconds (derived).",
        compressorDutyRatio: "Share of the observed time in the past hour the compressor ran, 0-1 (derived).",
        compressorServiceDue: "Compressor operating hours left until the next service: service_interval minus the hours since the last multiple of it (derived).",
        shortCycling: "1 while the compressor is short-cycling (too many starts per hour or too short runs, with hysteresis), else 0 (derived).",
        defrostActive: "1 while a defrost runs, else 0 (derived; from the defrost register or mode, else from supply below return while the compressor runs).",
        defrostSeconds: "Time spent defrosting, in seconds (derived).",
        defrostShare: "Defrost time as a share of the compressor's run time, both as counted by the daemon, 0-1 (derived).",
        defrostEnergy: "Heat taken back from the water by defrosts, flow x ΔT x c_p integrated, in kWh (derived).",
        supplyTarget: "Supply temperature the model's declared heating curve asks for at the current outdoor temperature, in °C (derived).",
        supplyDeviation: "Supply temperature minus the heating curve's target, in kelvin; negative when the supply falls short (derived; only while heating where the model names the heating condition).",
        supplyDeficit: "Shortfall of the supply below the heating curve's target integrated over time, in kelvin-seconds (÷ 60 for kelvin-minutes) (derived; only while heating where the model names the heating condition).",
        dhwBelowSetpoint: "1 while the hot-water temperature is below its setpoint (minus the model's margin), else 0 (derived).",
        dhwBelowSetpointSeconds: "Time the hot-water temperature spent below its setpoint (minus the model's margin), in seconds (derived).",
        degreeMinutes: "The controller's degree-minutes: its integral of supply minus calculated supply, which starts the compressor and the additional heat (derived where the register has another name; NIBE's register is this series).",
        anomalyScore: "How unusual this poll is, 0 (usual) to 1 (far outside the learnt range, stuck sensor, endless defrost, cycling) (derived).",
    ]
}
