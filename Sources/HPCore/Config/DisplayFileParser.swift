/// Parses `display.yml` and checks it against the heat pumps and models of the same load.
///
/// Syntax, ranges and unknown keys are errors with file and line. A heat pump id that is not in
/// `heatpumps.yml` is only a warning: devices added at runtime live in the SQLite registry, which
/// the loader does not see, and HPManager's web app keeps settings of removed pumps too.
struct DisplayFileParser {
    let expander: EnvironmentExpander

    /// One `visible_fields` (or `sparkline_minutes_per_pump`) entry with where it was written.
    struct Entry {
        var heatpumpID: String
        var line: Int
        var path: String
        var fields: [(name: String, line: Int, path: String)]
    }

    struct Parsed {
        var settings = DisplaySettings()
        var visible: [Entry] = []
        var sparklineEntries: [Entry] = []
        var warnings: [ConfigError] = []
    }

    func parse(text: String, file: String) throws -> Parsed {
        var parsed = Parsed()
        guard let root = try YAMLDocument.compose(text, file: file, expander: expander) else { return parsed }
        let top = try root.mapping()
        parsed.settings.refreshInterval = try top.int("refresh_interval", default: parsed.settings.refreshInterval,
                                                      within: ConfigLimits.displayRefreshInterval)
        parsed.settings.sparklineMinutes = try top.int("sparkline_minutes", default: parsed.settings.sparklineMinutes,
                                                       within: ConfigLimits.sparklineMinutes)
        if let node = top.optional("sparkline_minutes_per_pump") {
            let map = try node.mapping()
            for id in map.keys {
                guard let value = map.optional(id) else { continue }
                parsed.settings.sparklineMinutesPerPump[id] = try value.int(within: ConfigLimits.sparklineMinutes)
                parsed.sparklineEntries.append(Entry(heatpumpID: id, line: map.line(of: id), path: value.path, fields: []))
            }
        }
        if let node = top.optional("visible_fields") {
            if case .sequence = node.node {
                // HPManager's old layout: a flat list. HPManager ignores it (every pump shows its defaults); so do we.
                parsed.warnings.append(node.error(.invalidValue, "a flat list is HPManager's old layout and is ignored; use {<heat pump id>: [register, …]}"))
            } else {
                parsed.visible = try visibleFields(node)
                for entry in parsed.visible { parsed.settings.visibleFields[entry.heatpumpID] = entry.fields.map(\.name) }
            }
        }
        try top.rejectUnknownKeys()
        return parsed
    }

    private func visibleFields(_ node: YAMLNode) throws -> [Entry] {
        let map = try node.mapping()
        var entries: [Entry] = []
        for id in map.keys {
            let line = map.line(of: id)
            var fields: [(name: String, line: Int, path: String)] = []
            var seen: [String: Int] = [:]
            for item in try map.optional(id)?.sequence() ?? [] {
                let name = try item.string()
                if let first = seen[name] {
                    throw item.error(.duplicate, "\"\(name)\" is already listed at line \(first)")
                }
                seen[name] = item.line
                fields.append((name, item.line, item.path))
            }
            entries.append(Entry(heatpumpID: id, line: line, path: "\(node.path).\(id)", fields: fields))
        }
        return entries
    }

    /// Fields must name a register or named bit of the heat pump's model; unknown pumps are warnings.
    static func check(_ parsed: Parsed, file: String, devices: [DeviceConfig], models: [String: ModelDefinition],
                      errors: inout [ConfigError]) -> [ConfigError] {
        var warnings = parsed.warnings
        let byID = Dictionary(devices.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for entry in parsed.visible {
            guard let device = byID[entry.heatpumpID] else {
                warnings.append(ConfigError(.invalidValue, file: file, line: entry.line, field: entry.path,
                                            message: "no heat pump \"\(entry.heatpumpID)\" in heatpumps.yml (added at runtime?); its fields are not checked"))
                continue
            }
            // An unknown model is already reported for heatpumps.yml.
            guard let model = models[device.model]?.expanded(device.templateConfig) else { continue }
            let known = Set(model.registers.flatMap { [$0.name] + $0.bitmapFields.map(\.name) })
            for field in entry.fields where !known.contains(field.name) {
                let close = known.filter { YAMLMapping.editDistance($0, field.name) <= 2 }.sorted()
                let hint = close.first.map { " (did you mean '\($0)'?)" } ?? ""
                errors.append(ConfigError(.invalidValue, file: file, line: field.line, field: field.path,
                                          message: "model \(model.name) of heat pump \(device.id) has no register or bitmap field \"\(field.name)\"\(hint)"))
            }
        }
        for entry in parsed.sparklineEntries where byID[entry.heatpumpID] == nil {
            warnings.append(ConfigError(.invalidValue, file: file, line: entry.line, field: entry.path,
                                        message: "no heat pump \"\(entry.heatpumpID)\" in heatpumps.yml (added at runtime?)"))
        }
        return warnings
    }
}
