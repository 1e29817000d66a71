/// A heat-pump model: its registers and model-wide defaults, resolved (`extends` applied).
public struct ModelDefinition: Sendable, Hashable {
    public var name: String
    public var description: String
    public var manufacturer: String
    public var registers: [RegisterDefinition]
    /// Register blocks repeated per circuit or zone; a device's `config` picks the instances.
    public var templates: [RegisterTemplate] = []
    /// How to enable Modbus on the controller (port, unit id, firmware notes); shown by `models show`.
    public var setup: String = ""
    /// Registers whose plausible values identify this model (`hpmanagerctl detect`); empty: not detectable.
    public var detect: [String] = []
    /// Where the model was defined (`builtin` or a file path), for messages.
    public var source: String
    /// SG Ready / PV surplus mapped onto registers (`operations:`); empty when the vendor has none.
    public var operations = ModelOperations()
    /// Registers feeding derived metrics (`derived:`: COP, SCOP, compressor, defrost); empty: none.
    public var derived = DerivedInputs()
    /// The widest gap of unused registers one read may bridge on this controller (`max_gap:`; a
    /// Luxtronik SHI fails reads that cover unimplemented addresses); nil: the collector's.
    public var maxGap: Int?
    /// The most registers one read may cover on this controller (`max_registers_per_request:`); nil: the collector's.
    public var maxRegistersPerRequest: Int?
    /// Register groups the model declares (`groups:`), in file order; empty: every register is polled.
    public var groups: [RegisterGroup] = []
    /// Groups a device of this model polls (from its `config: {groups: [...]}`, `all` expanded);
    /// set by `expanded(_:)`. Registers of other groups are read and written on demand only.
    public var selectedGroups: Set<String> = []

    public init(name: String, description: String = "", manufacturer: String = "",
                registers: [RegisterDefinition], source: String = "builtin") {
        self.name = name
        self.description = description
        self.manufacturer = manufacturer
        self.registers = registers
        self.source = source
    }
}

extension ModelDefinition {
    /// `config` keys the model's templates accept (`circuits`, `zones`, `rooms`).
    public var templateKeys: [String] { templates.flatMap(\.keys) }

    /// Every `config` key a device of this model accepts: the templates' and `groups` when it has groups.
    public var configKeys: [String] { templateKeys + (groups.isEmpty ? [] : [RegisterGroup.configKey]) }

    /// Why a device's `config` does not fit this model, or nil.
    public func templateProblem(_ selection: [String: [String]]) -> String? {
        if let problem = groupProblem(selection[RegisterGroup.configKey]) { return problem }
        let known = Set(templateKeys)
        for key in selection.keys.sorted() where key != RegisterGroup.configKey && !known.contains(key) {
            return configKeys.isEmpty
                ? "model \(name) has no circuits or zones; remove config.\(key)"
                : "model \(name) has no config key \"\(key)\"; expected \(configKeys.joined(separator: ", "))"
        }
        for template in templates { if let problem = template.problem(in: selection) { return problem } }
        return nil
    }

    /// Why `config.groups` does not fit this model (no groups, unknown or repeated name), or nil.
    func groupProblem(_ chosen: [String]?) -> String? {
        guard let chosen else { return nil }
        guard !groups.isEmpty else { return "model \(name) has no register groups; remove config.groups" }
        let names = groups.map(\.name)
        var seen: Set<String> = []
        for group in chosen {
            guard group == RegisterGroup.all || names.contains(group) else {
                return "config.groups: model \(name) has no group \"\(group)\"; its groups are \(names.joined(separator: ", ")) (or all)"
            }
            guard seen.insert(group).inserted else { return "config.groups: group \"\(group)\" is listed twice" }
        }
        return nil
    }

    /// Whether a device of this model polls `register` (ungrouped, or its group selected).
    public func isPolled(_ register: RegisterDefinition) -> Bool {
        register.group.map(selectedGroups.contains) ?? true
    }

    /// Indices of `registers` no poll reads (their group is not selected); they are read on demand only.
    public var unpolled: Set<Int> {
        guard !groups.isEmpty else { return [] }
        return Set(registers.indices.filter { !isPolled(registers[$0]) })
    }

    /// The registers each poll reads, in model order.
    public var polledRegisters: [RegisterDefinition] { groups.isEmpty ? registers : registers.filter(isPolled) }

    /// The model with every instance of every template (for validation: a rule may name any of them).
    public var everyInstance: ModelDefinition {
        func all(_ templates: [RegisterTemplate], into selection: inout [String: [String]]) {
            for t in templates {
                selection[t.key] = t.instances
                all(t.children, into: &selection)
            }
        }
        var selection: [String: [String]] = [:]
        all(templates, into: &selection)
        if !groups.isEmpty { selection[RegisterGroup.configKey] = [RegisterGroup.all] }
        return expanded(selection)
    }

    /// The model a device with `selection` polls: the plain registers followed by every chosen
    /// instance of every template (the defaults where the selection is silent), polling the groups
    /// `selection["groups"]` names (`all`: every group; absent: none).
    public func expanded(_ selection: [String: [String]]) -> ModelDefinition {
        var result = self
        let chosen = selection[RegisterGroup.configKey] ?? []
        result.selectedGroups = chosen.contains(RegisterGroup.all) ? Set(groups.map(\.name)) : Set(chosen)
        for template in templates { result.registers += template.expand(selection) }
        return result
    }
}
