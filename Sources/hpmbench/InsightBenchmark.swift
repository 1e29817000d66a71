import Foundation
import HPCore
import Insight

/// Derived metrics plus anomaly scoring as each device actor runs them after a poll: `devices`
/// detectors, each fed `registers` values per poll, CPU time per round of polls against the interval.
struct InsightBenchmark {
    let devices: Int
    let registers: Int
    let interval: Double
    let seconds: Double

    /// A model with `registers` float registers: outdoor temperature first, a COP from two power
    /// registers, a compressor, a defrost flag, supply vs target and hot water vs setpoint (comfort),
    /// and anomaly detection on all of them.
    func model() -> ModelDefinition {
        let count = max(registers, 9)
        let defs = (0..<count).map { i in
            RegisterDefinition(name: i == 0 ? "outdoor" : "r\(i)", address: 2 * i, registerType: .input, dataType: .float32, unit: i == 0 ? "celsius" : "kw")
        }
        var m = ModelDefinition(name: "bench", registers: defs)
        m.derived = DerivedInputs(cop: .power(thermal: DerivedInput(register: "r1"), electrical: DerivedInput(register: "r2")),
                                  compressor: CompressorInputs(source: .running, register: DerivedInput(register: "r3")),
                                  defrost: DefrostInputs(register: DerivedInput(register: "r4")),
                                  anomaly: AnomalyInputs(outdoorTemp: "outdoor", registers: defs.map(\.name)),
                                  comfort: ComfortInputs(supply: SupplyCurveInputs(temp: DerivedInput(register: "r5"), target: .register(DerivedInput(register: "r6")),
                                                                                   heating: DerivedCondition(register: DerivedInput(register: "r3"))),
                                                         dhw: DHWComfortInputs(temp: DerivedInput(register: "r7"), setpoint: .register(DerivedInput(register: "r8")), margin: 5)))
        return m
    }

    /// `baseline`: the same loop (samples built per device and round) without the derived metrics
    /// and the detector, so the insight rows can report their own cost above it.
    func run(baseline: Bool = false) -> (rounds: Int, perPoll: Double, cpuShare: Double) {
        let m = model()
        var derived = (0..<devices).map { _ in DerivedMetrics(inputs: m.derived) }
        var anomaly = (0..<devices).compactMap { _ in AnomalyDetector(model: m) }
        // One poll's samples per device slot, varied per round (values change, a compressor cycles).
        var samples = m.registers.enumerated().map { Sample(register: $0.offset, name: $0.element.name, value: .double(0)) }
        var checksum = 0.0
        var rounds = 0
        let startCPU = ProcessCPU.seconds()
        let started = ContinuousClock.now
        var time = 1_700_000_000.0
        while (ContinuousClock.now - started) / .seconds(1) < seconds || rounds == 0 {
            for d in 0..<devices {
                for i in samples.indices {
                    let v: Double = switch i {
                    case 0: 3 + Double((d + rounds) % 7) * 0.1
                    case 3: Double((rounds / 30) % 2)
                    case 4: 0
                    default: Double(i) + Double((d &* 31 &+ rounds &* 17 &+ i) % 13) * 0.05
                    }
                    samples[i].value = .double(v)
                }
                if baseline {
                    checksum += samples[d % samples.count].value.doubleValue
                } else {
                    let extra = derived[d].observe(samples, at: time)
                    let verdict = anomaly[d].observe(samples, at: time)
                    checksum += verdict.score + Double(extra.count)
                }
            }
            time += interval
            rounds += 1
        }
        let cpu = ProcessCPU.seconds() - startCPU
        if checksum.isNaN { print("") }
        let perPoll = cpu / Double(rounds * devices)
        // Each device polls once per interval: the work of one round, spread over one interval.
        return (rounds, perPoll, cpu / Double(rounds) / interval)
    }
}
