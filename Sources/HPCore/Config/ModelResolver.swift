/// Resolves model specs (`extends`, model defaults, address offsets) and validates every register.
struct ModelResolver {
    /// Metric names the daemon itself emits per device; registers may not shadow them.
    static let reservedNames: Set<String> = [
        "up", "last_success_timestamp_seconds", "poll_duration_seconds", "poll_errors_total", "polls_total", "polls_late_total", "poll_lag_seconds",
        "restarts_total", "poll_overruns_total", "modbus_requests", "quarantined_registers",
        "state", "info", "alert_active",
    ]

    var specs: [String: ModelSpec]

    func resolveAll(errors: inout [ConfigError]) -> [String: ModelDefinition] {
        var resolved: [String: ModelDefinition] = [:]
        for name in specs.keys.sorted() {
            do {
                resolved[name] = try resolve(name, chain: [])
            } catch let error as ConfigError {
                errors.append(error)
            } catch {
                errors.append(ConfigError(.invalidValue, file: specs[name]?.file ?? "", line: 0, field: "models.\(name)", message: "\(error)"))
            }
        }
        return resolved
    }

    private func resolve(_ name: String, chain: [String]) throws -> ModelDefinition {
        guard let spec = specs[name] else {
            throw ConfigError(.unknownModel, file: "", line: 0, field: "models.\(name)", message: "unknown model \"\(name)\"")
        }
        var base = ModelDefinition(name: name, registers: [], source: spec.file)
        var inheritedOrder = ByteOrder.abcd
        var inheritedWriteMultiple = false
        var inheritedWriteOrder: ByteOrder?
        if let parentName = spec.extends {
            guard specs[parentName] != nil else {
                throw ConfigError(.unknownModel, file: spec.file, line: spec.line, field: "models.\(name).extends",
                                  message: "extends unknown model \"\(parentName)\"; known: \(specs.keys.sorted().joined(separator: ", "))")
            }
            guard !chain.contains(parentName), parentName != name else {
                throw ConfigError(.invalidValue, file: spec.file, line: spec.line, field: "models.\(name).extends",
                                  message: "extends cycle: \((chain + [name, parentName]).joined(separator: " → "))")
            }
            base = try resolve(parentName, chain: chain + [name])
            base.name = name
            base.source = spec.file
            inheritedOrder = specs[parentName]?.byteOrder ?? .abcd
            inheritedWriteMultiple = specs[parentName]?.writeMultiple ?? false
            inheritedWriteOrder = specs[parentName]?.writeByteOrder
        }
        let modelOrder = spec.byteOrder ?? inheritedOrder
        base.description = spec.description ?? base.description
        base.manufacturer = spec.manufacturer ?? base.manufacturer

        let defaults = RegisterDefaults(order: modelOrder, unavailable: spec.unavailable, offset: spec.addressOffset,
                                        writeMultiple: spec.writeMultiple ?? inheritedWriteMultiple,
                                        writeOrder: spec.writeByteOrder ?? inheritedWriteOrder)
        // A model's groups add to (or re-describe) its parent's.
        for group in spec.groups ?? [] {
            if let index = base.groups.firstIndex(where: { $0.name == group.name }) {
                base.groups[index] = group
            } else {
                base.groups.append(group)
            }
        }
        let groupNames = Set(base.groups.map(\.name))
        var seen: [String: Int] = [:]
        for register in spec.registers {
            let definition = try prepare(register, defaults)
            try checkGroup(definition, register, declared: groupNames, model: name)
            if let line = seen[definition.name] {
                throw ConfigError(.duplicate, file: register.file, line: register.line, field: "\(register.path).name",
                                  message: "register name \"\(definition.name)\" is already used at line \(line) of model \(name)")
            }
            seen[definition.name] = register.line
            if let index = base.registers.firstIndex(where: { $0.name == definition.name }) {
                base.registers[index] = definition
            } else {
                base.registers.append(definition)
            }
        }
        base.setup = spec.setup ?? base.setup
        base.maxGap = spec.maxGap ?? base.maxGap
        base.maxRegistersPerRequest = spec.maxRegistersPerRequest ?? base.maxRegistersPerRequest
        if let detect = spec.detect {
            for probe in detect where !base.registers.contains(where: { $0.name == probe }) {
                throw ConfigError(.invalidValue, file: spec.file, line: spec.detectLine, field: "models.\(name).detect",
                                  message: "detect names \"\(probe)\", which is not a register of model \(name) (template registers are probed per instance on their own)")
            }
            base.detect = detect
        }
        for templateSpec in spec.templates {
            let template = try resolveTemplate(templateSpec, defaults, groups: groupNames, model: name)
            // A model's template replaces its parent's template of the same key.
            if let index = base.templates.firstIndex(where: { $0.key == template.key }) {
                base.templates[index] = template
            } else {
                base.templates.append(template)
            }
        }
        // Every instance of every template is checked (addresses in range, series names unique).
        let all = base.everyInstance
        try checkMetricNameCollisions(all.registers, spec: spec)
        for r in all.registers where r.instance != nil
            && !(ConfigLimits.modbusAddress.contains(r.address) && ConfigLimits.modbusAddress.contains(r.address + r.count - 1)) {
            let path = spec.templates.first.map(\.path) ?? "models.\(name)"
            let side = r.address < 0 ? "below 0" : "beyond 65535"
            throw ConfigError(.invalidValue, file: spec.file, line: spec.templates.first?.line ?? spec.line, field: "\(path)",
                              message: "template register \(r.name) lands at address \(r.address), \(side) (address + stride × instance)")
        }
        if let operations = spec.operations { base.operations = operations }
        try validateOperations(base, spec: spec)
        // Inherited sections are checked again: the child may have replaced a register they name.
        if let derived = effectiveDerived(name) { base.derived = try resolveDerived(derived, model: base) }
        return base
    }

    /// Model-wide settings every register (plain or template) starts from.
    private struct RegisterDefaults {
        var order: ByteOrder
        var unavailable: [Int64]?
        var offset: Int
        var writeMultiple: Bool
        var writeOrder: ByteOrder?
    }

    /// A register with the model's defaults and address offset applied, validated.
    private func prepare(_ register: RegisterSpec, _ defaults: RegisterDefaults) throws -> RegisterDefinition {
        var definition = register.definition
        definition.byteOrder = register.byteOrder ?? defaults.order
        // A model's sentinels are numbers; they never apply to text.
        definition.unavailable = register.unavailable ?? (definition.dataType == .string ? nil : defaults.unavailable) ?? []
        // Both are bounded by the parser; checked anyway, as an overflow here would trap `--check`.
        let (shifted, overflow) = definition.address.addingReportingOverflow(defaults.offset)
        guard !overflow else {
            throw ConfigError(.invalidValue, file: register.file, line: register.line, field: "\(register.path).address",
                              message: "address \(definition.address) plus address_offset \(defaults.offset) overflows")
        }
        definition.address = shifted
        definition.writeMultiple = defaults.writeMultiple
        definition.writeByteOrder = register.writeByteOrder ?? defaults.writeOrder
        try validate(definition, spec: register)
        return definition
    }

    /// A register's `group:` names a group its model declares.
    private func checkGroup(_ r: RegisterDefinition, _ spec: RegisterSpec, declared: Set<String>, model: String) throws {
        guard let group = r.group, !declared.contains(group) else { return }
        let message = declared.isEmpty
            ? "register \(r.name) is in group \"\(group)\", but model \(model) declares no groups; add groups: {\(group): \"what it holds\"} to the model"
            : "register \(r.name) is in group \"\(group)\", which model \(model) does not declare; its groups are \(declared.sorted().joined(separator: ", "))"
        throw ConfigError(.invalidValue, file: spec.file, line: spec.groupLine > 0 ? spec.groupLine : spec.line, field: "\(spec.path).group", message: message)
    }

    private func resolveTemplate(_ spec: TemplateSpec, _ defaults: RegisterDefaults, groups: Set<String>, model: String) throws -> RegisterTemplate {
        var registers: [TemplateRegister] = []
        var seen: [String: Int] = [:]
        for register in spec.registers {
            let definition = try prepare(register, defaults)
            try checkGroup(definition, register, declared: groups, model: model)
            if !definition.bitmapFields.isEmpty {
                throw ConfigError(.invalidValue, file: register.file, line: register.line, field: "\(register.path).bitmap_fields",
                                  message: "bitmap_fields are not supported in templates; use bit: registers (one per bit)")
            }
            if let line = seen[definition.name] {
                throw ConfigError(.duplicate, file: register.file, line: register.line, field: "\(register.path).name",
                                  message: "register name \"\(definition.name)\" is already used at line \(line) of template \(spec.key)")
            }
            seen[definition.name] = register.line
            registers.append(TemplateRegister(definition: definition, stride: register.stride ?? spec.stride, instances: register.instances))
        }
        let children = try spec.children.map { try resolveTemplate($0, defaults, groups: groups, model: model) }
        return RegisterTemplate(key: spec.key, label: spec.label, instances: spec.instances, defaultInstances: spec.defaults ?? [],
                                stride: spec.stride, registers: registers, children: children)
    }

    private func validate(_ r: RegisterDefinition, spec: RegisterSpec) throws {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(.invalidValue, file: spec.file, line: spec.line, field: "\(spec.path).\(field)", message: message)
        }
        guard Self.isMetricName(r.name) else {
            throw fail("name", "register name \"\(r.name)\" must start with a letter or '_' and contain only letters, digits and '_' (it becomes a metric name)")
        }
        if Self.reservedNames.contains(r.name) {
            throw fail("name", "register name \"\(r.name)\" collides with the daemon's own metric heatpump_\(r.name)")
        }
        guard ConfigLimits.modbusAddress.contains(r.address) else {
            throw fail("address", "address \(r.address) is out of range 0-65535 (after the model's address_offset)")
        }
        // The address is at most 65535 here and count at most 125: the sum cannot overflow.
        if r.address + r.count - 1 > ConfigLimits.modbusAddress.upperBound {
            throw fail("data_type", "\(r.dataType.rawValue) needs \(r.count) registers but only \(65536 - r.address) remain after address \(r.address)")
        }
        if r.registerType.isBitTable && r.dataType != .bool {
            throw fail("data_type", "\(r.registerType.rawValue) registers hold single bits; data_type must be bool, found \(r.dataType.rawValue)")
        }
        if let writeTable = r.writeRegisterType, writeTable.isBitTable != r.registerType.isBitTable {
            throw fail("write_register_type", "\(r.registerType.rawValue) registers cannot be written as \(writeTable.rawValue): "
                + (writeTable.isBitTable ? "coils take single bits; use holding" : "holding registers take words; use coil"))
        }
        if r.access.isWritable && !r.writeTableIsWritable {
            let suggestion = r.registerType.isBitTable ? "coil" : "holding"
            throw fail("access", "register \"\(r.name)\" is \(r.access.rawValue) but \(r.registerType.rawValue) registers can never be written; "
                + "add write_register_type: \(suggestion) if the device takes writes at this address (IDM: read FC04, write FC16), or make it access: read")
        }
        try validateStringAndBit(r, spec: spec)
        try validateWriteClass(r, spec: spec)
        if !r.enumValues.isEmpty && !r.dataType.isInteger {
            throw fail("enum_values", "enum_values need an integer data_type, found \(r.dataType.rawValue)")
        }
        if r.isBitmap && !r.dataType.isInteger {
            throw fail("unit", "bitmap needs an integer data_type, found \(r.dataType.rawValue)")
        }
        if !r.bitmapFields.isEmpty && !r.isBitmap {
            throw fail("bitmap_fields", "bitmap_fields need unit: bitmap, found unit \"\(r.unit)\"")
        }
        var bitNames: [String: Int] = [:]
        for field in r.bitmapFields {
            let line = spec.bitmapFieldLines[field.name] ?? spec.line
            func fieldError(_ message: String) -> ConfigError {
                ConfigError(.invalidValue, file: spec.file, line: line, field: "\(spec.path).bitmap_fields.\(field.bit)", message: message)
            }
            guard (0..<r.bitWidth).contains(field.bit) else {
                throw fieldError("bit \(field.bit) does not exist in a \(r.dataType.rawValue) register (bits 0-\(r.bitWidth - 1))")
            }
            guard Self.isMetricName(field.name) else {
                throw fieldError("bit name \"\(field.name)\" must start with a letter or '_' and contain only letters, digits and '_' (it becomes a metric and field name)")
            }
            if Self.reservedNames.contains(field.name) {
                throw fieldError("bit name \"\(field.name)\" collides with the daemon's own metric heatpump_\(field.name)")
            }
            if let other = bitNames[field.name] {
                throw ConfigError(.duplicate, file: spec.file, line: line, field: "\(spec.path).bitmap_fields.\(field.bit)",
                                  message: "bits \(other) and \(field.bit) are both named \"\(field.name)\"")
            }
            bitNames[field.name] = field.bit
        }
        guard r.scale != 0 && r.scale.isFinite else { throw fail("scale", "scale must be a non-zero number") }
        if let lo = r.min, let hi = r.max, lo > hi { throw fail("min", "min \(lo) is greater than max \(hi)") }
        let range = Self.rawRange(r.dataType)
        for raw in r.unavailable where !range.contains(raw) {
            throw fail("unavailable", "unavailable value \(raw) cannot occur in a \(r.dataType.rawValue) register (raw range \(range.lowerBound)…\(range.upperBound))")
        }
    }

    /// Register and bit names become `heatpump_<name>` metrics and InfluxDB field keys.
    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// Raw values accepted in `unavailable`: both signed and unsigned spellings of the same bits.
    /// `data_type: string` needs `length`; `bit` needs a 16-bit integer register. Neither combines with
    /// scaling, enumerations, bit maps or writes (text and single bits have no numeric write path).
    private func validateStringAndBit(_ r: RegisterDefinition, spec: RegisterSpec) throws {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(.invalidValue, file: spec.file, line: spec.keyLines[field] ?? spec.line, field: "\(spec.path).\(field)", message: message)
        }
        let scaled = r.scale != 1 || r.offset != 0
        if r.dataType == .string {
            guard ConfigLimits.stringLength.contains(r.length) else {
                throw fail(spec.keyLines["length"] == nil ? "data_type" : "length",
                           "data_type string needs length: N registers (1-\(ConfigLimits.stringLength.upperBound), two bytes each), found \(r.length == 0 ? "none" : "\(r.length)")")
            }
            if scaled { throw fail(r.scale != 1 ? "scale" : "offset", "a string register cannot be scaled or offset") }
            if !r.enumValues.isEmpty { throw fail("enum_values", "a string register cannot have enum_values") }
            if r.isBitmap || !r.bitmapFields.isEmpty { throw fail("unit", "a string register cannot be a bitmap") }
            if !r.unavailable.isEmpty { throw fail("unavailable", "a string register has no raw sentinel values; remove unavailable") }
            if r.access.isWritable { throw fail("access", "string registers are read-only; make \"\(r.name)\" access: read") }
            if r.bit != nil { throw fail("bit", "bit selects one bit of a 16-bit register, not of a string") }
        } else if r.length != 0 {
            throw fail("length", "length applies to data_type string only, found data_type \(r.dataType.rawValue)")
        }
        guard let bit = r.bit else { return }
        guard r.dataType == .int16 || r.dataType == .uint16, !r.registerType.isBitTable else {
            throw fail("bit", "bit needs a 16-bit register (data_type int16 or uint16 on a holding or input register), found \(r.registerType.rawValue) \(r.dataType.rawValue)")
        }
        guard (0...15).contains(bit) else { throw fail("bit", "bit \(bit) does not exist in a 16-bit register (bits 0-15)") }
        if scaled { throw fail(r.scale != 1 ? "scale" : "offset", "bit gives a boolean; it cannot be combined with scale or offset") }
        if !r.bitmapFields.isEmpty || r.isBitmap { throw fail("bitmap_fields", "bit and bitmap_fields both pick bits; use one of them") }
        if !r.enumValues.isEmpty { throw fail("enum_values", "bit gives a boolean; it cannot have enum_values") }
        if r.access.isWritable { throw fail("access", "a single bit cannot be written without changing its neighbours; make \"\(r.name)\" access: read or write the whole register") }
    }

    /// Every register an operation names exists in the model and is writable.
    private func validateOperations(_ model: ModelDefinition, spec: ModelSpec) throws {
        func check(_ name: String, _ operation: String) throws {
            let line = spec.operationLines[operation] ?? spec.line
            guard let r = model.registers.first(where: { $0.name == name }) else {
                throw ConfigError(.invalidValue, file: spec.file, line: line, field: "models.\(spec.name).operations.\(operation)",
                                  message: "\(operation) names register \"\(name)\", which model \(model.name) does not have")
            }
            guard r.access.isWritable else {
                throw ConfigError(.invalidValue, file: spec.file, line: line, field: "models.\(spec.name).operations.\(operation)",
                                  message: "\(operation) writes register \"\(name)\", which is access: read")
            }
        }
        if let sg = model.operations.sgReady {
            for write in sg.prepare { try check(write.register, "sg_ready") }
            try check(sg.register, "sg_ready")
        }
        if let pv = model.operations.pvSurplus {
            try check(pv.register, "pv_surplus")
            if let production = pv.production { try check(production, "pv_surplus") }
        }
    }

    /// A write class needs a writable register; `refresh_interval` belongs to cyclic registers and
    /// `pulse_value` to pulse registers, within the register's range.
    private func validateWriteClass(_ r: RegisterDefinition, spec: RegisterSpec) throws {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(.invalidValue, file: spec.file, line: spec.keyLines[field] ?? spec.line, field: "\(spec.path).\(field)", message: message)
        }
        if r.writeClass != .volatile && !r.access.isWritable {
            throw fail(spec.keyLines["write_class"] == nil ? "access" : "write_class",
                       "write_class \(r.writeClass.rawValue) needs a writable register; \"\(r.name)\" is access: read")
        }
        switch (r.writeClass, r.refreshInterval) {
        case (.cyclic, nil):
            throw fail("write_class", "write_class cyclic needs refresh_interval (how often the value is re-sent, e.g. 10m)")
        case (.cyclic, _), (_, nil): break
        case (_, .some):
            throw fail("refresh_interval", "refresh_interval applies to write_class cyclic only, found \(r.writeClass.rawValue)")
        }
        if let pulse = r.pulseValue {
            guard r.writeClass == .pulse else {
                throw fail("pulse_value", "pulse_value applies to write_class pulse only, found \(r.writeClass.rawValue)")
            }
            if let lo = r.min, pulse < lo { throw fail("pulse_value", "pulse_value \(pulse) is below min \(lo)") }
            if let hi = r.max, pulse > hi { throw fail("pulse_value", "pulse_value \(pulse) is above max \(hi)") }
        }
    }

    static func rawRange(_ type: DataType) -> ClosedRange<Int64> {
        switch type {
        case .bool: 0...1
        case .int8, .uint8: -128...255
        case .int16, .uint16, .float16: -32768...65535
        case .int32, .uint32, .float32: Int64(Int32.min)...Int64(UInt32.max)
        case .int64, .uint64, .float64: Int64.min...Int64.max
        case .string: 0...0  // unused: `validate` refuses sentinels on text first
        }
    }

    /// Every name a model exports (registers, enum `_state`/`_value`/`_label` companions, `_bit`
    /// series, named bits) has exactly one owner; errors point at a register of `spec` when one is involved.
    private func checkMetricNameCollisions(_ registers: [RegisterDefinition], spec: ModelSpec) throws {
        var owners: [String: String] = [:]
        let own = Dictionary(spec.registers.map { ($0.definition.name, $0) }, uniquingKeysWith: { first, _ in first })
        for r in registers {
            // Instances of one template register share their series: they own it together.
            let register = r.instance.map { "template register \"\($0.series)\"" } ?? "register \"\(r.name)\""
            let series = r.seriesName
            var names = [(series, register)]
            if r.isEnum { names += ["_state", "_value", "_label"].map { (series + $0, register) } }
            if r.isBitmap { names.append((series + "_bit", register)) }
            if r.dataType == .string { names.append((series + "_info", register)) }
            // A bit named like its own register is that register's value (a boolean), as in HPManager.
            names += r.bitmapFields.filter { $0.name != r.name }.map { ($0.name, "bit \($0.bit) of \(register)") }
            for (metric, owner) in names {
                if let other = owners[metric], other != owner {
                    let located = own[r.name]
                    let line = located.flatMap { $0.bitmapFieldLines[metric] } ?? located?.line ?? spec.line
                    throw ConfigError(.duplicate, file: located?.file ?? spec.file, line: line, field: located?.path ?? "models.\(spec.name)",
                                      message: "\(other) and \(owner) would both export heatpump_\(metric) (and the InfluxDB field \(metric))")
                }
                owners[metric] = owner
            }
        }
    }
}
