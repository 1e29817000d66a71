import Yams

/// Parses the `models:` layout of HPManager's `registers.yml` (and our built-in model files).
public struct RegistersFileParser {
    let expander: EnvironmentExpander

    public init(expander: EnvironmentExpander = EnvironmentExpander(environment: [:])) {
        self.expander = expander
    }

    func parse(text: String, file: String) throws -> [ModelSpec] {
        guard let root = try YAMLDocument.compose(text, file: file, expander: expander) else { return [] }
        let top = try root.mapping()
        var models: [ModelSpec] = []
        if let modelsNode = top.optional("models") {
            let map = try modelsNode.mapping()
            for key in map.keys {
                guard let node = map.optional(key) else {
                    throw ConfigError(.invalidValue, file: file, line: map.line, field: "models.\(key)", message: "model has no content")
                }
                models.append(try parseModel(name: key, node: node))
            }
        }
        try top.rejectUnknownKeys()
        return models
    }

    private func parseModel(name: String, node: YAMLNode) throws -> ModelSpec {
        let map = try node.mapping()
        var byteOrder: ByteOrder?
        if let orderNode = map.optional("byte_order") {
            byteOrder = try Self.byteOrder(orderNode)
        }
        var spec = ModelSpec(
            name: name,
            description: try map.optional("description")?.string(),
            manufacturer: try map.optional("manufacturer")?.string(),
            byteOrder: byteOrder,
            writeByteOrder: try map.optional("write_byte_order").map(Self.byteOrder),
            addressOffset: try map.int("address_offset", default: 0, within: ConfigLimits.addressOffset),
            extends: try map.optional("extends")?.string(),
            unavailable: try map.optional("unavailable").map(Self.rawValues),
            writeMultiple: try map.optional("write_multiple")?.bool(),
            registers: [],
            file: node.file,
            line: node.line
        )
        for registerNode in try map.optional("registers")?.sequence() ?? [] {
            spec.registers.append(try parseRegister(registerNode, inTemplate: false))
        }
        if let templatesNode = map.optional("templates") {
            spec.templates = try parseTemplates(templatesNode, outerKeys: [])
        }
        if let groupsNode = map.optional("groups") {
            spec.groups = try Self.groups(groupsNode)
        }
        spec.setup = try map.optional("setup")?.string()
        // Same bounds as the collector's keys of these names (a request covers at most 125 registers).
        spec.maxGap = try map.optional("max_gap")?.int(within: 0...124)
        spec.maxRegistersPerRequest = try map.optional("max_registers_per_request")?.int(within: 1...125)
        if let operationsNode = map.optional("operations") {
            (spec.operations, spec.operationLines) = try Self.operations(operationsNode)
        }
        if let derivedNode = map.optional("derived") {
            spec.derived = try Self.derived(derivedNode)
        }
        if let detectNode = map.optional("detect") {
            let names = try detectNode.sequence().map { try $0.string() }
            guard !names.isEmpty else { throw detectNode.error(.invalidValue, "detect must list at least one register name") }
            spec.detect = names
            spec.detectLine = detectNode.line
        }
        try map.rejectUnknownKeys()
        return spec
    }

    /// `templates: {circuits: {label: circuit, instances: [A, B], default: [A], stride: 2, registers: […], templates: {…}}}`.
    private func parseTemplates(_ node: YAMLNode, outerKeys: Set<String>) throws -> [TemplateSpec] {
        let map = try node.mapping()
        var result: [TemplateSpec] = []
        var keys = outerKeys
        for key in map.keys {
            guard let templateNode = map.optional(key) else { throw node.error(.invalidValue, "template \(key) has no content") }
            guard RegistersFileParser.isInstanceName(key), key.first?.isLetter == true else {
                throw templateNode.error(.invalidValue, "template key \"\(key)\" must be a word of 1-16 letters, digits and '_' (it is the device's config key)")
            }
            guard keys.insert(key).inserted else {
                throw templateNode.error(.duplicate, "template key \"\(key)\" is used twice in this model")
            }
            guard key != RegisterGroup.configKey else {
                throw templateNode.error(.invalidValue, "template key \"\(key)\" is reserved: config.groups selects the model's register groups")
            }
            let t = try templateNode.mapping()
            let labelNode = try t.required("label")
            let label = try labelNode.string()
            guard ModelResolver.isMetricName(label) else {
                throw labelNode.error(.invalidValue, "label \"\(label)\" must start with a letter or '_' and contain only letters, digits and '_' (it becomes a Prometheus label and InfluxDB tag)")
            }
            let instancesNode = try t.required("instances")
            let instances = try Self.instanceList(instancesNode)
            guard !instances.isEmpty, Set(instances).count == instances.count else {
                throw instancesNode.error(.invalidValue, "instances must list at least one name, each once")
            }
            let defaultsNode = t.optional("default")
            let defaults = try defaultsNode.map(Self.instanceList)
            for d in defaults ?? [] where !instances.contains(d) {
                throw (defaultsNode ?? templateNode).error(.invalidValue, "default instance \"\(d)\" is not one of instances \(instances.joined(separator: ", "))")
            }
            // Negative strides: NIBE numbers climate systems 1-4 downwards (system 1 at the highest address).
            let stride = try t.int("stride", default: 0, within: Self.strideRange)
            var registers: [RegisterSpec] = []
            for registerNode in try t.required("registers").sequence() {
                let register = try parseRegister(registerNode, inTemplate: true)
                for only in register.instances ?? [] where !instances.contains(only) {
                    throw registerNode.error(.invalidValue, "register \(register.definition.name): instance \"\(only)\" is not one of the template's instances \(instances.joined(separator: ", "))")
                }
                registers.append(register)
            }
            var children: [TemplateSpec] = []
            if let childNode = t.optional("templates") {
                children = try parseTemplates(childNode, outerKeys: keys)
                for child in children { keys.insert(child.key) }
            }
            try t.rejectUnknownKeys()
            result.append(TemplateSpec(key: key, label: label, instances: instances, defaults: defaults, stride: stride,
                                       registers: registers, children: children, file: templateNode.file, line: templateNode.line, path: templateNode.path))
        }
        return result
    }

    /// Address distance of two template instances, either direction.
    static let strideRange = -ConfigLimits.modbusAddress.upperBound...ConfigLimits.modbusAddress.upperBound

    /// Instance names become label values and part of register names (`circuit_a.flow_temp`).
    static func isInstanceName(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 16 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }

    /// `[A, B]`, `[0, 1]` or a single name, as strings.
    static func instanceList(_ node: YAMLNode) throws -> [String] {
        let items: [YAMLNode]
        if case .sequence = node.node { items = try node.sequence() } else { items = [node] }
        return try items.map { item in
            let text = try item.string()
            guard isInstanceName(text) else {
                throw item.error(.invalidValue, "instance \"\(text)\" must be 1-16 letters, digits or '_'")
            }
            return text
        }
    }

    private func parseRegister(_ node: YAMLNode, inTemplate: Bool) throws -> RegisterSpec {
        let map = try node.mapping()
        let stride = inTemplate ? try map.optional("stride")?.int(within: Self.strideRange) : nil
        // A template register some instances lack (NIBE: heating curve of climate systems 1-3 only).
        let only = inTemplate ? try map.optional("instances").map(Self.instanceList) : nil
        let name = try map.required("name").string()
        let addressNode = try map.required("address")
        let address = try addressNode.int(within: ConfigLimits.registerAddress)

        var registerType = RegisterType.holding
        if let typeNode = map.optional("register_type") {
            let text = try typeNode.string()
            guard let parsed = RegisterType(configName: text) else {
                throw typeNode.error(.invalidValue, "unknown register_type \"\(text)\"; expected holding, input, coil or discrete")
            }
            registerType = parsed
        }
        var dataType: DataType = registerType.isBitTable ? .bool : .int16
        if let dataNode = map.optional("data_type") {
            let text = try dataNode.string()
            guard let parsed = DataType(configName: text) else {
                throw dataNode.error(.invalidValue, "unknown data_type \"\(text)\"; expected one of \(DataType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            dataType = parsed
        }
        var byteOrder: ByteOrder?
        if let orderNode = map.optional("byte_order") {
            byteOrder = try Self.byteOrder(orderNode)
        }
        var enumValues: [Int64: String] = [:]
        if let enumNode = map.optional("enum_values") {
            let enumMap = try enumNode.mapping()
            for key in enumMap.keys {
                guard let rawKey = Int64(key.trimmingCharacters(in: " ")) ?? (key.hasPrefix("0x") ? Int64(key.dropFirst(2), radix: 16) : nil) else {
                    throw enumNode.error(.invalidValue, "enum_values keys must be integers, found \"\(key)\"")
                }
                enumValues[rawKey] = try enumMap.optional(key)?.string() ?? ""
            }
        }
        var bitmapFields: [BitmapField] = []
        var bitmapFieldLines: [String: Int] = [:]
        if let fieldsNode = map.optional("bitmap_fields") {
            (bitmapFields, bitmapFieldLines) = try Self.bitmapFields(fieldsNode)
        }
        var writeRegisterType: RegisterType?
        if let typeNode = map.optional("write_register_type") {
            let text = try typeNode.string()
            guard let parsed = RegisterType(configName: text), parsed == .holding || parsed == .coil else {
                throw typeNode.error(.invalidValue, "unknown write_register_type \"\(text)\"; expected holding or coil (the only writable Modbus tables)")
            }
            writeRegisterType = parsed
        }
        var access = RegisterAccess.read
        if let accessNode = map.optional("access") {
            let text = try accessNode.string()
            guard let parsed = RegisterAccess(configName: text) else {
                throw accessNode.error(.invalidValue, "unknown access \"\(text)\"; expected read, write or read_write")
            }
            access = parsed
        }
        var metricType: MetricType?
        if let typeNode = map.optional("metric_type") {
            let text = try typeNode.string().lowercased()
            guard let parsed = MetricType(rawValue: text) else {
                throw typeNode.error(.invalidValue, "metric_type must be gauge or counter, found \"\(text)\"")
            }
            guard parsed == .gauge || name.hasSuffix("_total") else {
                throw typeNode.error(.invalidValue, "a counter's name must end in _total (Prometheus convention), found \"\(name)\"")
            }
            metricType = parsed
        }
        var definition = RegisterDefinition(
            name: name,
            address: address,
            registerType: registerType,
            dataType: dataType,
            byteOrder: byteOrder ?? .abcd,
            unit: try map.string("unit", default: ""),
            scale: try map.double("scale", default: 1),
            offset: try map.double("offset", default: 0),
            description: try map.string("description", default: ""),
            enumValues: enumValues,
            unavailable: [],
            access: access,
            min: try map.optional("min")?.double(),
            max: try map.optional("max")?.double(),
            eeprom: try map.bool("eeprom", default: false),
            metricType: metricType,
            bitmapFields: bitmapFields
        )
        definition.writeRegisterType = writeRegisterType
        try Self.applyWriteClass(map, to: &definition)
        definition.length = try map.int("length", default: 0, within: 0...ConfigLimits.stringLength.upperBound)
        definition.bit = try map.optional("bit").map { try $0.int(within: 0...15) }
        let keyLines = Dictionary(["length", "bit", "write_class", "refresh_interval", "pulse_value", "scale", "offset", "access", "unit", "enum_values", "bitmap_fields", "unavailable", "data_type"]
            .filter { map.optional($0) != nil }.map { ($0, map.line(of: $0)) }, uniquingKeysWith: { a, _ in a })
        let unavailable = try map.optional("unavailable").map(Self.rawValues)
        let writeByteOrder = try map.optional("write_byte_order").map(Self.byteOrder)
        definition.group = try map.optional("group")?.string()
        try map.rejectUnknownKeys()
        var spec = RegisterSpec(definition: definition, byteOrder: byteOrder, writeByteOrder: writeByteOrder, unavailable: unavailable,
                                bitmapFieldLines: bitmapFieldLines, keyLines: keyLines, stride: stride, instances: only, file: node.file, line: node.line, path: node.path)
        if definition.group != nil { spec.groupLine = map.line(of: "group") }
        return spec
    }

    /// `groups: {energy_log: "Energy log of the past hour", service: "…"}`: name → description, in file order.
    /// Names are what a device's `config: {groups: [...]}` lists, so they follow the instance-name rule.
    static func groups(_ node: YAMLNode) throws -> [RegisterGroup] {
        let map = try node.mapping()
        var groups: [RegisterGroup] = []
        for key in map.keys {
            let line = map.line(of: key)
            func fail(_ message: String) -> ConfigError {
                ConfigError(.invalidValue, file: node.file, line: line, field: "\(node.path).\(key)", message: message)
            }
            guard isInstanceName(key), key.first?.isLetter == true else {
                throw fail("group name \"\(key)\" must be 1-16 letters, digits or '_', starting with a letter (devices list it in config.groups)")
            }
            guard key != RegisterGroup.all else { throw fail("group name \"all\" is reserved: config.groups: [all] selects every group") }
            groups.append(RegisterGroup(name: key, description: try map.optional(key)?.string() ?? ""))
        }
        guard !groups.isEmpty else { throw node.error(.invalidValue, "groups must name at least one group (name: description)") }
        return groups
    }

    /// `operations: {sg_ready: {prepare, register, states}, pv_surplus: {register, production}}`.
    static func operations(_ node: YAMLNode) throws -> (ModelOperations, [String: Int]) {
        let map = try node.mapping()
        var operations = ModelOperations()
        var lines: [String: Int] = [:]
        if let sgNode = map.optional("sg_ready") {
            lines["sg_ready"] = map.line(of: "sg_ready")
            let sg = try sgNode.mapping()
            var prepare: [OperationWrite] = []
            for item in try sg.optional("prepare")?.sequence() ?? [] {
                let write = try item.mapping()
                prepare.append(OperationWrite(register: try write.required("register").string(), value: try write.required("value").string()))
                try write.rejectUnknownKeys()
            }
            var states: [SGReadyState: String] = [:]
            let statesNode = try sg.required("states")
            let stateMap = try statesNode.mapping()
            for key in stateMap.keys {
                guard let state = SGReadyState(rawValue: key.lowercased()) else {
                    throw ConfigError(.invalidValue, file: node.file, line: stateMap.line(of: key), field: "\(statesNode.path).\(key)",
                                      message: "unknown SG Ready state \"\(key)\"; expected lock, normal, recommend or boost")
                }
                states[state] = try stateMap.required(key).string()
            }
            guard states[.normal] != nil, states.count >= 2 else {
                throw statesNode.error(.invalidValue, "sg_ready.states needs normal and at least one of lock, recommend, boost")
            }
            operations.sgReady = SGReadyOperation(prepare: prepare, register: try sg.required("register").string(), states: states)
            try sg.rejectUnknownKeys()
        }
        if let pvNode = map.optional("pv_surplus") {
            lines["pv_surplus"] = map.line(of: "pv_surplus")
            let pv = try pvNode.mapping()
            operations.pvSurplus = PVSurplusOperation(register: try pv.required("register").string(), production: try pv.optional("production")?.string())
            try pv.rejectUnknownKeys()
        }
        try map.rejectUnknownKeys()
        return (operations, lines)
    }

    /// `write_class`, `refresh_interval` (cyclic) and `pulse_value` (pulse); `eeprom: true` is the
    /// older spelling of `write_class: eeprom`, and the two may not contradict each other.
    static func applyWriteClass(_ map: YAMLMapping, to definition: inout RegisterDefinition) throws {
        if let classNode = map.optional("write_class") {
            let text = try classNode.string()
            guard let parsed = WriteClass(rawValue: text.lowercased()) else {
                throw classNode.error(.invalidValue, "unknown write_class \"\(text)\"; expected \(WriteClass.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if definition.eeprom && parsed != .eeprom {
                throw classNode.error(.invalidValue, "write_class \(parsed.rawValue) contradicts eeprom: true; remove eeprom or use write_class: eeprom")
            }
            definition.writeClass = parsed
        }
        if let intervalNode = map.optional("refresh_interval") {
            definition.refreshInterval = try intervalNode.seconds(within: ConfigLimits.refreshInterval)
        }
        definition.pulseValue = try map.optional("pulse_value")?.double()
    }

    /// `bitmap_fields: {0: "hc1_pump", 6: "compressor_running"}`: bit index → name. Names are
    /// checked with the model (metric names, uniqueness); the bit range once the data type is known.
    static func bitmapFields(_ node: YAMLNode) throws -> ([BitmapField], [String: Int]) {
        let map = try node.mapping()
        var fields: [BitmapField] = []
        var lines: [String: Int] = [:]
        var bitLines: [Int: Int] = [:]
        for key in map.keys {
            let line = map.line(of: key)
            let text = key.trimmingCharacters(in: " ")
            // `Int(_:radix:)` returns nil on overflow: a 30-digit bit index is an error, not a trap.
            guard let bit = Int(text) ?? (text.lowercased().hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : nil) else {
                throw ConfigError(.invalidValue, file: node.file, line: line, field: "\(node.path).\(key)",
                                  message: "bitmap_fields keys must be bit numbers (0 = least significant bit), found \"\(key)\"")
            }
            if let first = bitLines[bit] {
                throw ConfigError(.duplicate, file: node.file, line: line, field: "\(node.path).\(key)",
                                  message: "bit \(bit) is already named at line \(first)")
            }
            bitLines[bit] = line
            guard let valueNode = map.optional(key) else {
                throw ConfigError(.invalidValue, file: node.file, line: line, field: "\(node.path).\(key)", message: "bit \(bit) needs a name")
            }
            let name = try valueNode.string()
            if lines[name] == nil { lines[name] = line }
            fields.append(BitmapField(bit: bit, name: name))
        }
        return (fields, lines)
    }

    static func byteOrder(_ node: YAMLNode) throws -> ByteOrder {
        let text = try node.string()
        guard let order = ByteOrder(configName: text) else {
            throw node.error(.invalidValue, "unknown byte_order \"\(text)\"; expected ABCD, CDAB, BADC or DCBA")
        }
        return order
    }

    /// `unavailable: 32768` or `unavailable: [32765, 32766, 32767]`.
    static func rawValues(_ node: YAMLNode) throws -> [Int64] {
        let items: [YAMLNode]
        if case .sequence = node.node { items = try node.sequence() } else { items = [node] }
        return try items.map { item in
            let text = try item.string().trimmingCharacters(in: " ")
            if let value = Int64(text) { return value }
            if text.lowercased().hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) {
                return Int64(bitPattern: value)
            }
            throw item.error(.invalidValue, "unavailable values must be integers (raw register values), found \"\(text)\"")
        }
    }
}
