/// `derived:` checked against the model: every register exists (plain, readable, numeric), units
/// convert to the formula's, the keys of a section form one of its shapes, and no derived series
/// collides with a register's.
extension ModelResolver {
    /// The model's `derived:` with its parents' sections beneath (nil when none in the chain).
    func effectiveDerived(_ name: String, depth: Int = 0) -> DerivedSpec? {
        guard let spec = specs[name], depth < 64 else { return nil }
        let parent = spec.extends.flatMap { effectiveDerived($0, depth: depth + 1) }
        return spec.derived?.merged(over: parent) ?? parent
    }

    func resolveDerived(_ spec: DerivedSpec, model: ModelDefinition) throws -> DerivedInputs {
        let registers = Dictionary(model.registers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var result = DerivedInputs()
        /// The register under `key`, numeric and readable, with the factor from its unit (nil: any unit).
        func input(_ section: DerivedSpec.Section, _ key: String, _ name: String, units: [String: Double]?) throws -> (DerivedInput, RegisterDefinition) {
            guard let r = registers[name] else {
                let template = model.everyInstance.registers.contains { $0.instance?.series == name || $0.name == name }
                throw section.error(key, "\(key) names register \"\(name)\", which model \(model.name) does not have"
                    + (template ? " (template registers cannot feed derived metrics; name a plain register)" : ""))
            }
            guard r.access.isReadable else { throw section.error(key, "\(key) names register \"\(name)\", which is access: write (never read)") }
            guard r.dataType != .string else { throw section.error(key, "\(key) names register \"\(name)\", which holds text, not a number") }
            guard let units else { return (DerivedInput(register: name), r) }
            guard let factor = units[r.unit.lowercased()] else {
                let found = r.unit.isEmpty ? "no unit" : "unit \"\(r.unit)\""
                throw section.error(key, "\(key) needs a register in \(units.keys.filter { !$0.isEmpty }.sorted().joined(separator: " or ")); \"\(name)\" has \(found)")
            }
            return (DerivedInput(register: name, factor: factor), r)
        }
        func one(_ section: DerivedSpec.Section, _ key: String, units: [String: Double]?) throws -> DerivedInput? {
            guard let names = section.registers[key] else { return nil }
            return try input(section, key, names[0], units: units).0
        }
        if let section = spec.sections["cop"] {
            let electrical = try one(section, "electrical_power", units: Self.powerUnits)
            let thermal = try one(section, "thermal_power", units: Self.powerUnits)
            let flow = try one(section, "flow_rate", units: Self.flowUnits)
            let supply = try one(section, "flow_temp", units: Self.temperatureUnits)
            let ret = try one(section, "return_temp", units: Self.temperatureUnits)
            guard let electrical else { throw section.error(nil, "cop needs electrical_power (and thermal_power, or flow_rate, flow_temp and return_temp)") }
            if let thermal {
                if flow != nil || supply != nil || ret != nil || section.fluid != nil {
                    throw section.error("thermal_power", "cop takes thermal_power or flow_rate/flow_temp/return_temp/fluid, not both")
                }
                result.cop = .power(thermal: thermal, electrical: electrical)
            } else if let flow, let supply, let ret {
                result.cop = .flow(flowRate: flow, flowTemp: supply, returnTemp: ret, electrical: electrical, fluid: section.fluid ?? .water)
            } else {
                throw section.error(nil, "cop needs thermal_power, or all of flow_rate, flow_temp and return_temp")
            }
        }
        if let section = spec.sections["scop"] {
            var heat: [DerivedInput] = [], electrical: [DerivedInput] = []
            var wraps: [String: Double] = [:]
            for key in ["heat_energy", "dhw_energy", "electrical_energy"] {
                for name in section.registers[key] ?? [] {
                    let (counter, r) = try input(section, key, name, units: Self.energyUnits)
                    if key == "electrical_energy" { electrical.append(counter) } else { heat.append(counter) }
                    if let wrap = Self.modulus(r) { wraps[name] = wrap * counter.factor }
                }
            }
            guard !heat.isEmpty, !electrical.isEmpty else {
                throw section.error(heat.isEmpty ? nil : "electrical_energy", "scop needs heat_energy (and dhw_energy where separate) and electrical_energy counters")
            }
            result.scop = SCOPInputs(heat: heat, electrical: electrical, maxPowerKW: section.numbers["max_power"] ?? 1000, wrapAt: wraps)
        }
        if let section = spec.sections["compressor"] {
            let running = try one(section, "running", units: nil)
            let frequency = try one(section, "frequency", units: nil)
            guard (running == nil) != (frequency == nil), let register = running ?? frequency else {
                throw section.error(nil, "compressor needs exactly one of running (non-zero while on) or frequency")
            }
            if running != nil, section.numbers["min_frequency"] != nil {
                throw section.error("min_frequency", "min_frequency applies to compressor.frequency only")
            }
            let maxStarts = section.numbers["max_starts_per_hour"] ?? 6
            guard maxStarts > 0 else { throw section.error("max_starts_per_hour", "max_starts_per_hour must be above 0") }
            result.compressor = CompressorInputs(source: running == nil ? .frequency : .running, register: register,
                                                 minFrequency: section.numbers["min_frequency"] ?? 0, maxStartsPerHour: maxStarts,
                                                 minMedianRunSeconds: section.numbers["min_median_run"] ?? 600)
        }
        if let section = spec.sections["defrost"] {
            guard let names = section.registers["active"] else { throw section.error(nil, "defrost needs active: the register that shows a defrost") }
            let (register, r) = try input(section, "active", names[0], units: nil)
            var values: [Double] = []
            for token in section.values {
                if let number = Double(token), number.isFinite {
                    values.append(number)
                } else if let raw = r.enumValues.first(where: { $0.value == token })?.key {
                    values.append(Double(raw))
                } else {
                    let labels = r.enumValues.sorted { $0.key < $1.key }.map(\.value)
                    throw section.error("values", "defrost value \"\(token)\" is neither a number nor a label of \(r.name)"
                        + (labels.isEmpty ? "" : " (\(labels.joined(separator: ", ")))"))
                }
            }
            result.defrost = DefrostInputs(register: register, values: values)
        }
        if let section = spec.sections["anomaly"] {
            result.anomaly = try resolveAnomaly(section, model: model, check: { key, name, units in try input(section, key, name, units: units).1 })
        }
        try checkDerivedCollisions(result, model: model, spec: spec)
        return result
    }

    /// A derived series may not share its name with a register's series, except a defrost register
    /// that already is `defrost_active` (it is exported once, as the register).
    private func checkDerivedCollisions(_ derived: DerivedInputs, model: ModelDefinition, spec: DerivedSpec) throws {
        var taken: Set<String> = []
        for r in model.everyInstance.registers {
            taken.insert(r.seriesName)
            for field in r.bitmapFields { taken.insert(field.name) }
        }
        let outputs: [(String, String)] = [(DerivedSeries.cop, "cop"), (DerivedSeries.compressorStarts, "compressor"), (DerivedSeries.compressorRuntime, "compressor"),
                                           (DerivedSeries.shortCycling, "compressor"), (DerivedSeries.defrostActive, "defrost"),
                                           (DerivedSeries.anomalyScore, "anomaly")]
            + DerivedSeries.scopPeriods.map { ("\(DerivedSeries.scop)_\($0)", "scop") } + [(DerivedSeries.scop, "scop")]
        for (series, section) in outputs where spec.sections[section] != nil && taken.contains(series) {
            if series == DerivedSeries.defrostActive, derived.defrost?.register.register == series { continue }
            let located = spec.sections[section]
            throw ConfigError(.duplicate, file: located?.file ?? "", line: located?.line ?? 0, field: located?.path ?? "models.\(model.name).derived",
                              message: "derived \(section) exports heatpump_\(series), which register \"\(series)\" of model \(model.name) already exports; rename the register")
        }
    }

    static let powerUnits: [String: Double] = ["kw": 1, "w": 0.001]
    static let energyUnits: [String: Double] = ["kwh": 1, "wh": 0.001, "mwh": 1000]
    static let flowUnits: [String: Double] = ["l/min": 1, "l/h": 1.0 / 60, "m3/h": 1000.0 / 60, "m³/h": 1000.0 / 60]
    static let temperatureUnits: [String: Double] = ["celsius": 1, "°c": 1, "c": 1]

    /// The value at which an unsigned integer counter wraps to 0 (its raw range × scale); nil for others.
    static func modulus(_ r: RegisterDefinition) -> Double? {
        guard r.offset == 0 else { return nil }
        switch r.dataType {
        case .uint16: return 65536 * abs(r.scale)
        case .uint32: return 4_294_967_296 * abs(r.scale)
        default: return nil
        }
    }
}
