/// A block of registers repeated per instance: IDM heating circuits A-G and zone modules 0-9, NIBE
/// climate systems 1-4. A device names the instances it has in `config: {circuits: [A, B]}`; each
/// register of instance number `i` (its position in `instances`) sits at `address + stride × i`
/// (stride may be negative: NIBE numbers its climate systems downwards).
///
/// Expanded registers are named `<label>_<instance>.<name>` (`circuit_a.flow_temp`: unique per
/// device, used by SQLite readings, `hpmanagerctl read/write` and alerts) and export the shared
/// series `<label>_<name>` with the label `<label>="<instance>"` (`heatpump_circuit_flow_temp{circuit="A"}`).
public struct RegisterTemplate: Sendable, Hashable {
    /// The device's `config` key naming the instances (`circuits`).
    public var key: String
    /// The label that tells instances apart (`circuit`).
    public var label: String
    /// Every instance the controller can have, in address order (index 0 at the base address).
    public var instances: [String]
    /// Instances a device gets when its `config` does not name this template's key.
    public var defaultInstances: [String]
    /// Address distance of two instances for registers without their own stride, and for `children`.
    public var stride: Int
    /// Registers at the addresses of instance 0 (model offset applied), each with its stride.
    public var registers: [TemplateRegister]
    /// Templates inside each instance (IDM: rooms 1-8 of every zone module); their addresses are
    /// relative to instance 0 of this template too.
    public var children: [RegisterTemplate]

    public init(key: String, label: String, instances: [String], defaultInstances: [String], stride: Int = 0,
                registers: [TemplateRegister], children: [RegisterTemplate] = []) {
        self.key = key
        self.stride = stride
        self.label = label
        self.instances = instances
        self.defaultInstances = defaultInstances
        self.registers = registers
        self.children = children
    }

    /// Every `config` key this template and its children accept.
    public var keys: [String] { [key] + children.flatMap(\.keys) }

    /// Registers for `selection` (config key → instances; absent keys take the defaults), in
    /// template order. `outer` are the labels and offsets of enclosing instances.
    func expand(_ selection: [String: [String]], outer: [SeriesLabel] = [], prefix: String = "", shift: Int = 0) -> [RegisterDefinition] {
        var result: [RegisterDefinition] = []
        let chosen = selection[key] ?? defaultInstances
        for instance in chosen {
            guard let index = instances.firstIndex(of: instance) else { continue }  // validated before
            let labels = outer + [SeriesLabel(name: label, value: instance)]
            let path = prefix + label + "_" + instance.lowercased() + "."
            let series = labels.map(\.name).joined(separator: "_") + "_"
            for t in registers where t.instances?.contains(instance) ?? true {
                var r = t.definition
                r.address += shift + t.stride * index
                r.instance = SeriesInstance(series: series + r.name, labels: labels)
                r.name = path + r.name
                result.append(r)
            }
            for child in children {
                result += child.expand(selection, outer: labels, prefix: path, shift: shift + stride * index)
            }
        }
        return result
    }
}

/// A template register: its definition at instance 0 and how far each further instance is.
public struct TemplateRegister: Sendable, Hashable {
    public var definition: RegisterDefinition
    public var stride: Int
    /// The instances that have this register (nil: every instance of the template).
    public var instances: [String]?

    public init(definition: RegisterDefinition, stride: Int, instances: [String]? = nil) {
        self.definition = definition
        self.stride = stride
        self.instances = instances
    }
}

extension RegisterTemplate {
    /// Why `selection` does not fit this template (unknown instance, duplicate), or nil.
    func problem(in selection: [String: [String]]) -> String? {
        if let chosen = selection[key] {
            var seen: Set<String> = []
            for instance in chosen {
                guard instances.contains(instance) else {
                    return "\(key): \(label) \"\(instance)\" does not exist; expected some of \(instances.joined(separator: ", "))"
                }
                guard seen.insert(instance).inserted else { return "\(key): \(label) \"\(instance)\" is listed twice" }
            }
        }
        for child in children { if let problem = child.problem(in: selection) { return problem } }
        return nil
    }
}
