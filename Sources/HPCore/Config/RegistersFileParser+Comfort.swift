/// The keys of `derived: comfort:` that are neither one register nor a plain number.
extension RegistersFileParser {
    /// Outdoor and supply temperatures a declared curve may name (°C).
    static let curveRange = -60.0...120.0

    static func comfortKeys(_ section: YAMLMapping, into parsed: inout DerivedSpec.Section) throws {
        // `dhw_setpoint`: a register, or a fixed temperature (48).
        if let node = section.optional("dhw_setpoint") {
            let text = try node.string()
            if Double(text) != nil {
                parsed.numbers["dhw_setpoint"] = try node.double(within: 0...100)
            } else {
                parsed.registers["dhw_setpoint"] = [text]
            }
        }
        if let node = section.optional("heating_values") {
            let items: [YAMLNode]
            if case .sequence = node.node { items = try node.sequence() } else { items = [node] }
            parsed.values = try items.map { try $0.string() }
            guard !parsed.values.isEmpty else { throw node.error(.invalidValue, "heating_values must name at least one value (or leave it out: any non-zero value)") }
        }
        if let node = section.optional("curve") {
            var points: [CurvePoint] = []
            for item in try node.sequence() {
                let pair = try item.sequence()
                guard pair.count == 2 else { throw item.error(.invalidValue, "a curve point is [outdoor °C, supply °C], e.g. [-10, 45]") }
                points.append(CurvePoint(outdoor: try pair[0].double(within: curveRange), supply: try pair[1].double(within: curveRange)))
            }
            guard points.count >= 2 else { throw node.error(.invalidValue, "curve needs at least two points [outdoor °C, supply °C]") }
            for (a, b) in zip(points, points.dropFirst()) where b.outdoor <= a.outdoor {
                throw node.error(.invalidValue, "curve points must be in rising outdoor temperature (\(b.outdoor) follows \(a.outdoor))")
            }
            parsed.curve = points
        }
    }
}
