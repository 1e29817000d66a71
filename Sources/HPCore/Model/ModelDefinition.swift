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

    /// Why a device's `config` does not fit this model, or nil.
    public func templateProblem(_ selection: [String: [String]]) -> String? {
        let known = Set(templateKeys)
        for key in selection.keys.sorted() where !known.contains(key) {
            return known.isEmpty
                ? "model \(name) has no circuits or zones; remove config.\(key)"
                : "model \(name) has no config key \"\(key)\"; expected \(templateKeys.joined(separator: ", "))"
        }
        for template in templates { if let problem = template.problem(in: selection) { return problem } }
        return nil
    }

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
        return expanded(selection)
    }

    /// The model a device with `selection` polls: the plain registers followed by every chosen
    /// instance of every template (the defaults where the selection is silent).
    public func expanded(_ selection: [String: [String]]) -> ModelDefinition {
        guard !templates.isEmpty else { return self }
        var result = self
        for template in templates { result.registers += template.expand(selection) }
        return result
    }
}
