/// `derived: {cop: {…}, scop: {…}, compressor: {…}, defrost: {…}, anomaly: {…}, comfort: {…}}` of a model.
extension RegistersFileParser {
    /// Register keys each section accepts (a register name; `scop` counters also a list).
    static let derivedRegisterKeys: [String: [String]] = [
        "cop": ["thermal_power", "electrical_power", "flow_rate", "flow_temp", "return_temp"],
        "scop": ["heat_energy", "dhw_energy", "electrical_energy", "heating_electrical_energy", "dhw_electrical_energy"],
        "compressor": ["running", "frequency", "operating_hours"],
        "defrost": ["active", "flow_temp", "return_temp", "flow_rate"],
        "anomaly": ["outdoor_temp"],
        "comfort": ["supply_temp", "supply_target", "outdoor_temp", "heating", "dhw_temp", "degree_minutes"],
    ]
    static let derivedNumberKeys: [String: [String]] = [
        "scop": ["max_power"],
        "compressor": ["min_frequency", "max_starts_per_hour"],
        "anomaly": ["threshold", "stuck_polls"],
        "comfort": ["dhw_margin"],
    ]

    static func derived(_ node: YAMLNode) throws -> DerivedSpec {
        let map = try node.mapping()
        var spec = DerivedSpec()
        for name in DerivedSpec.sectionNames {
            guard let sectionNode = map.optional(name) else { continue }
            let section = try sectionNode.mapping()
            var parsed = DerivedSpec.Section(file: sectionNode.file, line: map.line(of: name), path: sectionNode.path)
            for key in section.keys { parsed.keyLines[key] = section.line(of: key) }
            for key in derivedRegisterKeys[name] ?? [] {
                guard let valueNode = section.optional(key) else { continue }
                let items: [YAMLNode]
                if case .sequence = valueNode.node, name == "scop" || key == "operating_hours" { items = try valueNode.sequence() } else { items = [valueNode] }
                let names = try items.map { try $0.string() }
                guard !names.isEmpty else { throw valueNode.error(.invalidValue, "\(key) must name at least one register") }
                parsed.registers[key] = names
            }
            for key in derivedNumberKeys[name] ?? [] {
                if let value = try section.optional(key)?.double(within: 0...1_000_000) { parsed.numbers[key] = value }
            }
            if name == "compressor", let runNode = section.optional("min_median_run") {
                parsed.numbers["min_median_run"] = try runNode.seconds(within: 0...86_400)
            }
            if name == "anomaly" {
                try anomalyKeys(section, into: &parsed)
            }
            if name == "comfort" {
                try comfortKeys(section, into: &parsed)
            }
            if name == "compressor", let intervalNode = section.optional("service_interval") {
                // A duration: 8000h (a bare number is seconds, like every duration).
                parsed.numbers["service_interval"] = try intervalNode.seconds(within: 3600...(1_000_000 * 3600)) / 3600
            }
            if name == "defrost", let durationNode = section.optional("min_duration") {
                parsed.numbers["min_duration"] = try durationNode.seconds(within: 0...3600)
            }
            if name == "cop", let fluidNode = section.optional("fluid") {
                parsed.fluid = try fluid(fluidNode)
            }
            if name == "defrost", let valuesNode = section.optional("values") {
                let items: [YAMLNode]
                if case .sequence = valuesNode.node { items = try valuesNode.sequence() } else { items = [valuesNode] }
                parsed.values = try items.map { try $0.string() }
            }
            try section.rejectUnknownKeys()
            spec.sections[name] = parsed
        }
        try map.rejectUnknownKeys()
        return spec
    }

    /// `water`, `propylene_glycol_30` / `ethylene_glycol_25` (mass percent), or `{glycol: propylene, fraction: 0.3}`.
    static func fluid(_ node: YAMLNode) throws -> DerivedFluid {
        if case .mapping = node.node {
            let map = try node.mapping()
            let glycolNode = try map.required("glycol")
            let text = try glycolNode.string().lowercased()
            guard let glycol = DerivedFluid.Glycol(rawValue: text) else {
                throw glycolNode.error(.invalidValue, "unknown glycol \"\(text)\"; expected propylene or ethylene")
            }
            let fraction = try map.required("fraction").double(within: 0...0.6)
            try map.rejectUnknownKeys()
            return DerivedFluid(glycol: glycol, fraction: fraction)
        }
        let text = try node.string().lowercased()
        if text == "water" { return .water }
        for glycol in [DerivedFluid.Glycol.propylene, .ethylene] {
            let prefix = glycol.rawValue + "_glycol_"
            if text.hasPrefix(prefix), let percent = Int(text.dropFirst(prefix.count)), (0...60).contains(percent) {
                return DerivedFluid(glycol: glycol, fraction: Double(percent) / 100)
            }
        }
        throw node.error(.invalidValue, "unknown fluid \"\(text)\"; expected water, propylene_glycol_N or ethylene_glycol_N (N = mass percent 0-60), or {glycol, fraction}")
    }
}
