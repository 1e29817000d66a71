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
        // One instance of a template (`climate_system_1.supply_setpoint`) may feed a formula too: a
        // device whose config leaves that instance out lacks the value, so the series is absent there.
        let instances = Dictionary(model.everyInstance.registers.filter { $0.instance != nil }.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var result = DerivedInputs()
        /// The register under `key`, numeric and readable, with the factor from its unit (nil: any unit).
        func input(_ section: DerivedSpec.Section, _ key: String, _ name: String, units: [String: Double]?) throws -> (DerivedInput, RegisterDefinition) {
            guard let r = registers[name] ?? instances[name] else {
                let example = instances.values.filter { $0.instance?.series == name || $0.name.hasSuffix(".\(name)") }.map(\.name).sorted().first
                throw section.error(key, "\(key) names register \"\(name)\", which model \(model.name) does not have"
                    + (example.map { " (a template register feeds a formula by one instance's name, e.g. \"\($0)\")" } ?? ""))
            }
            guard r.access.isReadable else { throw section.error(key, "\(key) names register \"\(name)\", which is access: write (never read)") }
            guard r.dataType != .string else { throw section.error(key, "\(key) names register \"\(name)\", which holds text, not a number") }
            if let group = r.group {
                throw section.error(key, "\(key) names register \"\(name)\" of group \(group), which a device polls only when it selects the group; "
                    + "a derived metric needs a register every poll reads (remove its group:)")
            }
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
            result.scop = try resolveSCOP(section, input)
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
            let hours = try (section.registers["operating_hours"] ?? []).map { try input(section, "operating_hours", $0, units: Self.hourUnits).0 }
            result.compressor = CompressorInputs(source: running == nil ? .frequency : .running, register: register,
                                                 minFrequency: section.numbers["min_frequency"] ?? 0, maxStartsPerHour: maxStarts,
                                                 minMedianRunSeconds: section.numbers["min_median_run"] ?? 600,
                                                 serviceIntervalHours: section.numbers["service_interval"], operatingHours: hours)
        }
        if let section = spec.sections["defrost"] {
            try resolveDefrostExtras(section, into: &result, one)
        }
        if let section = spec.sections["defrost"], let names = section.registers["active"] {
            let (register, r) = try input(section, "active", names[0], units: nil)
            let values = try Self.rawValues(section, "values", section.values, of: r, what: "defrost value")
            result.defrost = DefrostInputs(register: register, values: values)
        }
        if let section = spec.sections["comfort"] {
            result.comfort = try resolveComfort(section, input)
        }
        if let section = spec.sections["anomaly"] {
            result.anomaly = try resolveAnomaly(section, model: model, check: { key, name, units in try input(section, key, name, units: units).1 })
        }
        try checkDerivedCollisions(result, model: model, spec: spec)
        return result
    }

    /// `defrost`: ΔT reversal where no `active` register is named (needs `compressor`), and the flow
    /// and temperatures for the heat a defrost takes back (its own, or the flow-based COP's).
    private func resolveDefrostExtras(_ section: DerivedSpec.Section, into result: inout DerivedInputs,
                                      _ one: (DerivedSpec.Section, String, [String: Double]?) throws -> DerivedInput?) throws {
        let supply = try one(section, "flow_temp", Self.temperatureUnits)
        let ret = try one(section, "return_temp", Self.temperatureUnits)
        let flow = try one(section, "flow_rate", Self.flowUnits)
        let minDuration = section.numbers["min_duration"]
        if section.registers["active"] == nil {
            guard section.values.isEmpty else { throw section.error("values", "values apply to defrost.active only") }
            guard let supply, let ret else {
                throw section.error(nil, "defrost needs active: the register that shows a defrost, or flow_temp and return_temp to detect it from ΔT reversal")
            }
            guard result.compressor != nil else {
                throw section.error("flow_temp", "defrost from ΔT reversal (flow_temp, return_temp) needs a compressor section: a reversal counts only while it runs")
            }
            result.defrostReversal = DefrostReversalInputs(flowTemp: supply, returnTemp: ret, minDurationSeconds: minDuration ?? 60)
        } else if minDuration != nil {
            throw section.error("min_duration", "min_duration applies to defrost from ΔT reversal (without active) only")
        } else if (supply == nil) != (ret == nil) {
            throw section.error(supply == nil ? "return_temp" : "flow_temp", "defrost energy needs both flow_temp and return_temp")
        }
        var energy: DefrostEnergyInputs?
        if case .flow(let copFlow, let copSupply, let copReturn, _, let fluid)? = result.cop {
            energy = DefrostEnergyInputs(flowRate: flow ?? copFlow, flowTemp: supply ?? copSupply, returnTemp: ret ?? copReturn, fluid: fluid)
        } else if let flow, let supply, let ret {
            energy = DefrostEnergyInputs(flowRate: flow, flowTemp: supply, returnTemp: ret)
        } else if flow != nil {
            throw section.error("flow_rate", "defrost energy needs flow_temp and return_temp with flow_rate")
        }
        result.defrostEnergy = energy
    }

    /// `scop`: the total (heat + hot water ÷ electricity) and, where the model has electricity counters
    /// per use, SCOP for heating and for hot water.
    private func resolveSCOP(_ section: DerivedSpec.Section,
                             _ input: (DerivedSpec.Section, String, String, [String: Double]?) throws -> (DerivedInput, RegisterDefinition)) throws -> SCOPInputs {
        var counters: [String: [DerivedInput]] = [:]
        var wraps: [String: Double] = [:]
        for key in ["heat_energy", "dhw_energy", "electrical_energy", "heating_electrical_energy", "dhw_electrical_energy"] {
            for name in section.registers[key] ?? [] {
                let (counter, r) = try input(section, key, name, Self.energyUnits)
                counters[key, default: []].append(counter)
                if let wrap = Self.modulus(r) { wraps[name] = wrap * counter.factor }
            }
        }
        let heating = counters["heat_energy"] ?? [], dhw = counters["dhw_energy"] ?? []
        let heatingElectrical = counters["heating_electrical_energy"], dhwElectrical = counters["dhw_electrical_energy"]
        guard !heating.isEmpty || !dhw.isEmpty else {
            throw section.error(nil, "scop needs heat_energy (and dhw_energy where separate) and electrical_energy counters")
        }
        var uses: [SCOPUse] = []
        if let heatingElectrical {
            guard !heating.isEmpty else { throw section.error("heating_electrical_energy", "heating_electrical_energy needs heat_energy: the heat counter for heating") }
            uses.append(SCOPUse(name: "heating", heat: heating, electrical: heatingElectrical))
        }
        if let dhwElectrical {
            guard !dhw.isEmpty else { throw section.error("dhw_electrical_energy", "dhw_electrical_energy needs dhw_energy: the heat counter for hot water") }
            uses.append(SCOPUse(name: "dhw", heat: dhw, electrical: dhwElectrical))
        }
        // The total's electricity: its own counter, or the per-use counters together when they cover all the heat.
        var electrical = counters["electrical_energy"] ?? []
        if electrical.isEmpty, let heatingElectrical, let dhwElectrical, !heating.isEmpty, !dhw.isEmpty {
            electrical = heatingElectrical + dhwElectrical
        }
        guard !electrical.isEmpty else {
            throw section.error("electrical_energy", "scop needs heat_energy (and dhw_energy where separate) and electrical_energy counters"
                + ", or heating_electrical_energy and dhw_electrical_energy with heat_energy and dhw_energy")
        }
        return SCOPInputs(heat: heating + dhw, electrical: electrical, maxPowerKW: section.numbers["max_power"] ?? 1000, wrapAt: wraps, uses: uses)
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
                                           (DerivedSeries.shortCycling, "compressor"), (DerivedSeries.compressorStartsPerHour, "compressor"),
                                           (DerivedSeries.compressorRunPerStart, "compressor"), (DerivedSeries.compressorDutyRatio, "compressor"),
                                           (DerivedSeries.compressorServiceDue, "compressor"), (DerivedSeries.defrostActive, "defrost"),
                                           (DerivedSeries.defrostSeconds, "defrost"), (DerivedSeries.defrostShare, "defrost"), (DerivedSeries.defrostEnergy, "defrost"),
                                           (DerivedSeries.anomalyScore, "anomaly")] + DerivedSeries.comfortSeries.map { ($0, "comfort") }
            + DerivedSeries.scopPeriods.map { ("\(DerivedSeries.scop)_\($0)", "scop") } + [(DerivedSeries.scop, "scop")]
            + DerivedSeries.scopUses.flatMap { use in DerivedSeries.scopPeriods.map { ("\(DerivedSeries.scop)_\(use)_\($0)", "scop") } }
        for (series, section) in outputs where spec.sections[section] != nil && taken.contains(series) {
            if series == DerivedSeries.defrostActive, derived.defrost?.register.register == series { continue }
            if series == DerivedSeries.degreeMinutes, derived.comfort?.degreeMinutes?.register == series { continue }
            let located = spec.sections[section]
            throw ConfigError(.duplicate, file: located?.file ?? "", line: located?.line ?? 0, field: located?.path ?? "models.\(model.name).derived",
                              message: "derived \(section) exports heatpump_\(series), which register \"\(series)\" of model \(model.name) already exports; rename the register")
        }
    }

    static let powerUnits: [String: Double] = ["kw": 1, "w": 0.001]
    static let energyUnits: [String: Double] = ["kwh": 1, "wh": 0.001, "mwh": 1000]
    static let flowUnits: [String: Double] = ["l/min": 1, "l/h": 1.0 / 60, "m3/h": 1000.0 / 60, "m³/h": 1000.0 / 60]
    static let temperatureUnits: [String: Double] = ["celsius": 1, "°c": 1, "c": 1]
    static let hourUnits: [String: Double] = ["hours": 1, "h": 1, "min": 1.0 / 60, "s": 1.0 / 3600]

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
