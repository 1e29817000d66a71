/// `derived: anomaly:` checked against the model.
extension ModelResolver {
    /// `check(key, name, units)` validates one register as the other sections do (exists, read, numeric).
    func resolveAnomaly(_ section: DerivedSpec.Section, model: ModelDefinition,
                        check: (String, String, [String: Double]?) throws -> RegisterDefinition) throws -> AnomalyInputs {
        var outdoor: String?
        if let name = section.registers["outdoor_temp"]?.first {
            _ = try check("outdoor_temp", name, Self.temperatureUnits)
            outdoor = name
        }
        var names: [String]
        if let listed = section.registers["registers"] {
            names = []
            for name in listed where !names.contains(name) {
                let r = try check("registers", name, nil)
                if r.isEnum || r.isBitmap || r.dataType == .bool {
                    throw section.error("registers", "registers names \"\(name)\", an enumeration, bitmap or boolean; anomaly scoring needs a measured value")
                }
                names.append(name)
            }
        } else {
            names = AnomalyInputs.defaultRegisters(of: model)
        }
        guard !names.isEmpty else {
            throw section.error(nil, "anomaly finds no register to watch in model \(model.name); name them under registers:")
        }
        var inputs = AnomalyInputs(outdoorTemp: outdoor, registers: names)
        if let threshold = section.numbers["threshold"] {
            guard threshold > 0, threshold <= 1 else { throw section.error("threshold", "threshold must be above 0 and at most 1 (the score's range)") }
            inputs.threshold = threshold
        }
        if let polls = section.numbers["stuck_polls"] {
            guard polls >= 3, polls <= 100_000, polls.rounded() == polls else {
                throw section.error("stuck_polls", "stuck_polls must be a whole number from 3 to 100000")
            }
            inputs.stuckPolls = Int(polls)
        }
        if let warmup = section.numbers["warmup"] { inputs.warmupSeconds = warmup }
        if let limit = section.numbers["max_defrost"] { inputs.maxDefrostSeconds = limit }
        return inputs
    }
}
