import ControlProtocol
import DeviceActor
import Drivers
import HPCore
import Logging

/// `detect`: which model answers at a TCP endpoint, and which of its circuits / zones / climate
/// systems are fitted. Reads go through the poller's own path (ReadPlanner + PollExecutor on a
/// link of their own, as `test` does), so Illegal Data Address is isolated per register exactly
/// as in polling; the verdicts are `ModelDetection`'s.
struct DeviceDetection {
    var host: String
    var port: Int
    var unit: Int
    var timeout: Double
    var polling: PollingSettings
    var logger: Logger

    /// Probes every model that has `detect:` registers, then the proposed model's templates.
    func run(models: [ModelDefinition], links: LinkRegistry) async throws -> DetectResponse {
        let endpoint = LinkEndpoint.tcp(host: host, port: port)
        let link = ModbusLink(endpoint: endpoint, loop: links.group.next(), throttle: links.throttle)
        defer { link.close() }
        var candidates: [ModelDetection.Candidate] = []
        var failures: [String: String] = [:]
        var requests = 0
        for model in models where !model.detect.isEmpty {
            let probes = ModelDetection.probes(model)
            let outcome = try await read(probes, of: model, on: link)
            requests += outcome.requests
            if let failure = outcome.failure {
                failures[model.name] = failure.description
                candidates.append(ModelDetection.Candidate(model: model.name, confidence: 0, viable: false,
                                                           reason: "no answer: \(failure.description)", evidence: [:]))
                continue
            }
            candidates.append(ModelDetection.candidate(model.name, evidence(probes, outcome)))
        }
        if !candidates.isEmpty, failures.count == candidates.count, let any = failures.values.first {
            throw CommandError(.deviceError, "\(endpoint) unit \(unit) does not answer: \(any)")
        }
        let ranked = candidates.sorted { $0.confidence > $1.confidence }
        let proposal = ModelDetection.proposal(candidates)
        let ranking = ranked.map { DetectCandidate(model: $0.model, confidence: $0.confidence, viable: $0.viable, reason: $0.reason) }
        guard let proposal, let model = models.first(where: { $0.name == proposal.model }) else {
            logger.info("detect: no model", metadata: ["endpoint": "\(endpoint)", "unit": "\(unit)"])
            return DetectResponse(endpoint: endpoint.description, unit: unit, candidates: ranking, proposal: nil,
                                  message: noProposal(candidates, endpoint: endpoint), requests: requests)
        }
        // Which instances of each template answer.
        let instances = ModelDetection.instanceProbes(model)
        var config: [String: [String]] = [:]
        var notes: [String] = []
        if !instances.isEmpty {
            let registers = instances.map(\.register)
            let outcome = try await read(registers, of: model, on: link)
            requests += outcome.requests
            if let failure = outcome.failure {
                notes.append("circuits/zones not probed: \(failure.description)")
            } else {
                let judged = evidence(registers, outcome)
                for (probe, judged) in zip(instances, judged) {
                    if config[probe.key] == nil { config[probe.key] = [] }
                    if ModelDetection.fitted(judged.1) { config[probe.key, default: []].append(probe.instance) }
                }
            }
        }
        let summary = config.keys.sorted().map { "\($0)=\(config[$0, default: []].joined(separator: ","))" }.joined(separator: " ")
        let message = "\(endpoint) unit \(unit) looks like \(model.name) (confidence \(Int((proposal.confidence * 100).rounded())) %)"
            + (summary.isEmpty ? "" : "; fitted: \(summary)")
        logger.info("detect: proposed", metadata: ["endpoint": "\(endpoint)", "unit": "\(unit)", "model": "\(model.name)", "config": "\(summary)"])
        return DetectResponse(endpoint: endpoint.description, unit: unit, candidates: ranking,
                              proposal: DetectProposal(model: model.name, manufacturer: model.manufacturer, confidence: proposal.confidence,
                                                       reason: proposal.reason, config: config, notes: notes.isEmpty ? nil : notes),
                              message: message, requests: requests)
    }

    /// Reads `registers` of `model` within the model's request limits (a Luxtronik SHI refuses bridged gaps).
    private func read(_ registers: [RegisterDefinition], of model: ModelDefinition, on link: ModbusLink) async throws -> PollOutcome {
        let executor = PollExecutor(unitID: unit, timeout: timeout, registers: registers)
        return try await executor.execute(polling.planner(for: model).plan(registers), on: link)
    }

    private func evidence(_ registers: [RegisterDefinition], _ outcome: PollOutcome) -> [(String, ModelDetection.Evidence)] {
        let refused = Set(outcome.rejected)
        var samples: [Int: Sample] = [:]
        for s in outcome.samples where samples[s.register] == nil { samples[s.register] = s }
        return registers.enumerated().map { i, r in
            (r.name, ModelDetection.evidence(r, sample: samples[i], refused: refused.contains(i)))
        }
    }

    private func noProposal(_ candidates: [ModelDetection.Candidate], endpoint: LinkEndpoint) -> String {
        let target = "\(endpoint) unit \(unit)"
        if candidates.isEmpty { return "no model has detect: registers to probe" }
        let everyProbeRefused = candidates.allSatisfy { c in !c.evidence.isEmpty && c.evidence.values.allSatisfy { $0 == .refused } }
        if everyProbeRefused {
            return "\(target) answers Modbus but has none of the built-in models' registers (Illegal Data Address everywhere): not a supported heat pump, or the wrong unit id"
        }
        if let closest = candidates.max(by: { $0.confidence < $1.confidence }), closest.confidence > 0 {
            return "no model fits \(target); closest: \(closest.model) (\(closest.reason))"
        }
        return "no model fits \(target): no probe answered a plausible value"
    }
}
