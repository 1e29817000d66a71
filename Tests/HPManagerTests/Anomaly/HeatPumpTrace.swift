import Foundation
import HPCore

/// A deterministic model of an air-source heat pump for anomaly traces: outdoor temperature with a
/// daily cycle and a slower weather swing, a heating curve, a compressor that runs 40 of every 60
/// minutes, a 5-minute defrost every 90 minutes below 5 °C outdoor, sensor noise and 0.1 resolution.
/// Faults are injected from `faultAt` on.
struct HeatPumpTrace {
    enum Fault {
        case none
        /// `return_temp` keeps the value it had at the onset.
        case stuckReturn
        /// A slow pressure loss: `flow_rate` falls by `perHour` l/min per hour.
        case fallingFlow(perHour: Double)
        /// The compressor runs 4 minutes of every 8 (7.5 starts per hour, 4-minute runs).
        case cycling
        /// The defrost that starts at the onset never ends.
        case endlessDefrost
    }

    /// Register order of `model`.
    static let names = ["outdoor_temp", "flow_temp", "return_temp", "flow_rate", "electrical_power", "compressor_running", "defrost_active", "dhw_temp"]
    static let units = ["celsius", "celsius", "celsius", "l/min", "kw", "", "", "celsius"]

    /// The model as a user would declare it: anomaly on the measured registers, bands by outdoor temperature.
    static func model(warmup: Double = 86_400) -> ModelDefinition {
        let registers = names.enumerated().map { i, name in
            RegisterDefinition(name: name, address: i * 2, registerType: .input, dataType: .float32, unit: units[i])
        }
        var model = ModelDefinition(name: "trace_pump", registers: registers, source: "test")
        model.derived = DerivedInputs(
            compressor: CompressorInputs(source: .running, register: DerivedInput(register: "compressor_running")),
            defrost: DefrostInputs(register: DerivedInput(register: "defrost_active")),
            anomaly: AnomalyInputs(outdoorTemp: "outdoor_temp",
                                   registers: ["outdoor_temp", "flow_temp", "return_temp", "flow_rate", "electrical_power", "dhw_temp"],
                                   warmupSeconds: warmup))
        return model
    }

    var fault: Fault = .none
    var faultAt = Double.infinity
    private var rng: SplitMix64
    private var stuckValue: Double?

    init(seed: UInt64, fault: Fault = .none, faultAt: Double = .infinity) {
        rng = SplitMix64(seed: seed)
        self.fault = fault
        self.faultAt = faultAt
    }

    func outdoor(_ t: Double) -> Double {
        2 + 4 * sin(2 * .pi * (t / 86_400 - 0.375)) + 4 * sin(2 * .pi * t / (3.3 * 86_400))
    }

    /// The samples of one poll at time `t` (seconds since the trace began).
    mutating func poll(at t: Double) -> [Sample] {
        let faulty = t >= faultAt
        let out = outdoor(t) + noise(0.15)
        let target = 35 + 0.8 * (15 - outdoor(t))
        var on: Bool, inPhase: Double
        if faulty, case .cycling = fault {
            let x = t.truncatingRemainder(dividingBy: 480)
            on = x < 240
            inPhase = on ? x : x - 240
        } else {
            let x = t.truncatingRemainder(dividingBy: 3600)
            on = x < 2400
            inPhase = on ? x : x - 2400
        }
        var defrost = on && outdoor(t) < 5 && t.truncatingRemainder(dividingBy: 5400) < 300
        if faulty, case .endlessDefrost = fault { defrost = true; on = true }
        var flow: Double
        if on {
            flow = target - (target - 28) * exp(-inPhase / 240) + noise(0.3)
            if defrost { flow -= 8 }
        } else {
            flow = 28 + (target - 28) * exp(-inPhase / 600) + noise(0.3)
        }
        var ret = flow - (on && !defrost ? 5 : 1.5) + noise(0.2)
        var rate = 14.6 + noise(0.25)
        if faulty, case .fallingFlow(let perHour) = fault { rate -= perHour * (t - faultAt) / 3600 }
        if faulty, case .stuckReturn = fault {
            if stuckValue == nil { stuckValue = Self.quantize(ret) }
            ret = stuckValue ?? ret
        }
        let power = on ? 2.0 + 0.05 * (15 - outdoor(t)) + noise(0.05) : 0.02
        let dhw = 48 + 2 * sin(2 * .pi * t / 21_600) + noise(0.1)
        let values = [out, flow, ret, rate, power, on ? 1 : 0, defrost ? 1 : 0, dhw]
        return values.enumerated().map { i, v in
            Sample(register: i, name: Self.names[i], value: .double(i == 4 ? (v * 100).rounded() / 100 : Self.quantize(v)))
        }
    }

    static func quantize(_ v: Double) -> Double { (v * 10).rounded() / 10 }

    /// Gaussian noise (Box–Muller) from the seeded generator.
    private mutating func noise(_ sigma: Double) -> Double {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12), u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
