import Foundation

/// Plausible heat-pump behaviour over time: drifting outdoor temperature and a compressor cycle
/// that supply/return temperatures and power follow. Deterministic for a given seed and time.
struct SimPhysics {
    let phase: Double
    /// Set by the `compressor` control command: the compressor is held on or off (nil: its cycle).
    var forcedCompressor: Bool?
    /// Set by the `defrost` control command: while the compressor runs, heat flows back from the water
    /// (supply `defrostReversal` K below return) and the profile's defrost register or mode shows it.
    var defrosting = false
    static let defrostReversal = 3.0

    init(seed: Int) {
        phase = Double((seed &* 7919) % 900)
    }

    /// Compressor runs 10 min of every 15 min cycle (shifted per unit).
    func compressorOn(_ t: Double) -> Bool { forcedCompressor ?? ((t + phase).truncatingRemainder(dividingBy: 900) < 600) }

    private func secondsInPhase(_ t: Double) -> Double {
        let x = (t + phase).truncatingRemainder(dividingBy: 900)
        return x < 600 ? x : x - 600
    }

    func outdoor(_ t: Double) -> Double { 4 + 3 * sin((t + phase) / 1800) + 0.2 * sin(t / 37) }

    func flow(_ t: Double) -> Double {
        let s = secondsInPhase(t)
        return compressorOn(t) ? 30 + 15 * (1 - exp(-s / 120)) : 30 + 15 * exp(-s / 90)
    }

    func inDefrost(_ t: Double) -> Bool { defrosting && compressorOn(t) }
    func returnTemp(_ t: Double) -> Double { inDefrost(t) ? flow(t) + Self.defrostReversal : flow(t) - (compressorOn(t) ? 5 : 1.5) }
    func dhw(_ t: Double) -> Double { 48 + 2 * sin((t + phase) / 2400) }
    func power(_ t: Double) -> Double { compressorOn(t) ? 2.4 + 0.3 * sin(t / 50) : 0.05 }

    func value(_ dynamics: SimDynamics, at t: Double) -> Double {
        switch dynamics {
        case .constant(let v): v
        case .outdoor: outdoor(t)
        case .flow: flow(t)
        case .returnTemp: returnTemp(t)
        case .dhw: dhw(t)
        case .power: power(t)
        case .thermalPower: power(t) * 3.6
        case .compressor: compressorOn(t) ? 1 : 0
        case .whenRunning(let on, let off): compressorOn(t) ? on : off
        case .operatingMode(let on, let off, let defrost): inDefrost(t) ? defrost : compressorOn(t) ? on : off
        case .defrost: inDefrost(t) ? 1 : 0
        case .counter(let base, let perHour): base + perHour * (t + phase) / 3600
        }
    }
}

/// How a point's physical value evolves.
enum SimDynamics {
    case constant(Double)
    case outdoor, flow, returnTemp, dhw, power, thermalPower, compressor
    case whenRunning(on: Double, off: Double)
    /// An operating mode: `defrost` while the `defrost` command holds, else `on`/`off` with the compressor.
    case operatingMode(on: Double, off: Double, defrost: Double)
    /// 1 during a defrost (the `defrost` command with the compressor on), else 0.
    case defrost
    case counter(base: Double, perHour: Double)

    var isConstant: Bool {
        if case .constant = self { return true }
        return false
    }
}
