/// `derived: comfort:` checked against the model.
extension ModelResolver {
    func resolveComfort(_ section: DerivedSpec.Section,
                        _ input: (DerivedSpec.Section, String, String, [String: Double]?) throws -> (DerivedInput, RegisterDefinition)) throws -> ComfortInputs {
        func one(_ key: String, _ units: [String: Double]?) throws -> (DerivedInput, RegisterDefinition)? {
            guard let name = section.registers[key]?.first else { return nil }
            return try input(section, key, name, units)
        }
        var comfort = ComfortInputs()
        let supply = try one("supply_temp", Self.temperatureUnits)?.0
        let target = try one("supply_target", Self.temperatureUnits)?.0
        let outdoor = try one("outdoor_temp", Self.temperatureUnits)?.0
        let heating = try one("heating", nil)
        if let supply {
            let resolved: SupplyCurveInputs.Target
            switch (target, section.curve, outdoor) {
            case (let target?, nil, nil):
                resolved = .register(target)
            case (nil, let points?, let outdoor?):
                resolved = .curve(outdoor: outdoor, points: points)
            case (_?, _?, _), (_?, _, _?):
                throw section.error("supply_target", "comfort takes supply_target (the controller's calculated supply) or curve with outdoor_temp, not both")
            case (nil, _?, nil):
                throw section.error("curve", "curve needs outdoor_temp: the register the curve reads")
            case (nil, nil, _):
                throw section.error("supply_temp", "supply_temp needs its target: supply_target (a register), or curve with outdoor_temp")
            }
            var condition: DerivedCondition?
            if let (register, r) = heating {
                condition = DerivedCondition(register: register, values: try Self.rawValues(section, "heating_values", section.values, of: r, what: "heating value"))
            } else if !section.values.isEmpty {
                throw section.error("heating_values", "heating_values apply to comfort.heating only")
            }
            comfort.supply = SupplyCurveInputs(temp: supply, target: resolved, heating: condition)
        } else {
            for key in ["supply_target", "curve", "outdoor_temp", "heating", "heating_values"] where section.registers[key] != nil || (key == "curve" && section.curve != nil) || (key == "heating_values" && !section.values.isEmpty) {
                throw section.error(key, "\(key) applies to the supply comparison, which needs supply_temp")
            }
        }
        let dhw = try one("dhw_temp", Self.temperatureUnits)?.0
        let setpointRegister = try one("dhw_setpoint", Self.temperatureUnits)?.0
        let fixed = section.numbers["dhw_setpoint"]
        if let dhw {
            guard let setpoint = setpointRegister.map(DHWComfortInputs.Setpoint.register) ?? fixed.map(DHWComfortInputs.Setpoint.fixed) else {
                throw section.error("dhw_temp", "dhw_temp needs dhw_setpoint: a register, or a fixed temperature in °C")
            }
            let margin = section.numbers["dhw_margin"] ?? 0
            guard margin <= 30 else { throw section.error("dhw_margin", "dhw_margin must be at most 30 K") }
            comfort.dhw = DHWComfortInputs(temp: dhw, setpoint: setpoint, margin: margin)
        } else if setpointRegister != nil || fixed != nil || section.numbers["dhw_margin"] != nil {
            throw section.error(section.numbers["dhw_margin"] != nil && setpointRegister == nil && fixed == nil ? "dhw_margin" : "dhw_setpoint",
                                "the hot-water comparison needs dhw_temp")
        }
        comfort.degreeMinutes = try one("degree_minutes", nil)?.0
        guard comfort.supply != nil || comfort.dhw != nil || comfort.degreeMinutes != nil else {
            throw section.error(nil, "comfort needs supply_temp (with supply_target or curve), dhw_temp (with dhw_setpoint) or degree_minutes")
        }
        return comfort
    }

    /// Raw numbers, or enum labels of `register`, as `defrost.values` takes them.
    static func rawValues(_ section: DerivedSpec.Section, _ key: String, _ tokens: [String], of register: RegisterDefinition, what: String) throws -> [Double] {
        var values: [Double] = []
        for token in tokens {
            if let number = Double(token), number.isFinite {
                values.append(number)
            } else if let raw = register.enumValues.first(where: { $0.value == token })?.key {
                values.append(Double(raw))
            } else {
                let labels = register.enumValues.sorted { $0.key < $1.key }.map(\.value)
                throw section.error(key, "\(what) \"\(token)\" is neither a number nor a label of \(register.name)"
                    + (labels.isEmpty ? "" : " (\(labels.joined(separator: ", ")))"))
            }
        }
        return values
    }
}
