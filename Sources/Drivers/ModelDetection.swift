import HPCore

/// Recognising a heat pump from a handful of reads (`hpmanagerctl detect`): pure decisions over
/// what each probe register answered. The reads themselves go through the poller (Supervisor).
public enum ModelDetection {
    /// What one probe register answered, judged against its definition.
    public enum Evidence: Sendable, Equatable {
        /// A value that fits the register (enum label, min/max, a temperature's range).
        case plausible(Double)
        /// Raw zero: fits many registers of any vendor, so it neither supports nor refutes.
        case zero
        /// The vendor's "not available" value: the function exists but is not fitted.
        case unavailable
        /// A value the register cannot hold (not one of its enum values, outside min/max).
        case implausible(String)
        /// Illegal Data Address / Illegal Function: the address does not exist on this device.
        case refused

        var supports: Bool { if case .plausible = self { true } else { false } }
        var refutes: Bool {
            switch self {
            case .implausible, .refused: true
            default: false
            }
        }
    }

    /// One model's verdict.
    public struct Candidate: Sendable, Equatable {
        public var model: String
        /// Share of the probe registers that answered plausibly, 0-1.
        public var confidence: Double
        /// Whether this model can be proposed: nothing refuted it and at least half the probes support it.
        public var viable: Bool
        public var reason: String
        public var evidence: [String: Evidence]

        public init(model: String, confidence: Double, viable: Bool, reason: String, evidence: [String: Evidence]) {
            self.model = model
            self.confidence = confidence
            self.viable = viable
            self.reason = reason
            self.evidence = evidence
        }
    }

    /// Temperatures outside this range (°C) are not a heat pump's.
    static let plausibleCelsius = -60.0...150.0

    /// The model's probe registers (its `detect:` names, in order).
    public static func probes(_ model: ModelDefinition) -> [RegisterDefinition] {
        model.detect.compactMap { name in model.registers.first { $0.name == name } }
    }

    /// Judges one register from a read: `sample` nil means no value (sentinel) unless `refused`.
    public static func evidence(_ register: RegisterDefinition, sample: Sample?, refused: Bool) -> Evidence {
        if refused { return .refused }
        guard let sample else { return .unavailable }
        let value = sample.value.doubleValue
        if register.isEnum {
            guard let label = sample.label, register.enumValues.values.contains(label) else {
                return .implausible("\(value.formatted) is none of its enum values")
            }
        }
        if let min = register.min, value < min { return .implausible("\(value.formatted) is below its minimum \(min.formatted)") }
        if let max = register.max, value > max { return .implausible("\(value.formatted) is above its maximum \(max.formatted)") }
        if register.unit.lowercased() == "celsius", !plausibleCelsius.contains(value) {
            return .implausible("\(value.formatted) °C is not a plausible temperature")
        }
        if !value.isFinite { return .implausible("not a number") }
        return value == register.offset ? .zero : .plausible(value)
    }

    /// A model's verdict from the evidence of its probes (in probe order).
    public static func candidate(_ model: String, _ evidence: [(String, Evidence)]) -> Candidate {
        let supporting = evidence.filter { $0.1.supports }.map(\.0)
        let refuting = evidence.filter { $0.1.refutes }
        let confidence = evidence.isEmpty ? 0 : Double(supporting.count) / Double(evidence.count)
        let viable = refuting.isEmpty && !evidence.isEmpty && supporting.count * 2 >= evidence.count
        var parts: [String] = []
        if !supporting.isEmpty { parts.append("plausible: \(supporting.joined(separator: ", "))") }
        for (name, e) in refuting {
            switch e {
            case .refused: parts.append("\(name): Illegal Data Address")
            case .implausible(let why): parts.append("\(name): \(why)")
            default: break
            }
        }
        let silent = evidence.filter { $0.1 == .zero || $0.1 == .unavailable }.map(\.0)
        if !silent.isEmpty { parts.append("no evidence (0 or not available): \(silent.joined(separator: ", "))") }
        return Candidate(model: model, confidence: confidence, viable: viable, reason: parts.joined(separator: "; "),
                         evidence: Dictionary(evidence, uniquingKeysWith: { a, _ in a }))
    }

    /// The candidate to propose: the most confident viable one (ties: the first in `candidates`).
    public static func proposal(_ candidates: [Candidate]) -> Candidate? {
        candidates.filter(\.viable).enumerated().max { a, b in
            a.element.confidence < b.element.confidence || (a.element.confidence == b.element.confidence && a.offset > b.offset)
        }?.element
    }

    /// For each top-level template: its first register at every instance (what answers decides
    /// whether the circuit / zone / climate system is fitted).
    public static func instanceProbes(_ model: ModelDefinition) -> [(key: String, instance: String, register: RegisterDefinition)] {
        var result: [(key: String, instance: String, register: RegisterDefinition)] = []
        for template in model.templates {
            for instance in template.instances {
                // Expand the instance alone; nested templates (rooms) are not probed.
                var flat = template
                flat.children = []
                var alone = ModelDefinition(name: model.name, registers: [])
                alone.templates = [flat]
                guard let first = alone.expanded([template.key: [instance]]).registers.first else { continue }
                result.append((template.key, instance, first))
            }
        }
        return result
    }

    /// An instance is fitted when its probe register answers a value (zero included) — not Illegal
    /// Data Address, not the vendor's "not available".
    public static func fitted(_ evidence: Evidence) -> Bool {
        switch evidence {
        case .plausible, .zero, .implausible: true
        case .unavailable, .refused: false
        }
    }
}

private extension Double {
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : "\(self)" }
}
