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

        var seen: [String: Int] = [:]
        for register in spec.registers {
            var definition = register.definition
            definition.byteOrder = register.byteOrder ?? modelOrder
            definition.unavailable = register.unavailable ?? spec.unavailable ?? []
            // Both are bounded by the parser; checked anyway, as an overflow here would trap `--check`.
            let (shifted, overflow) = definition.address.addingReportingOverflow(spec.addressOffset)
            guard !overflow else {
                throw ConfigError(.invalidValue, file: register.file, line: register.line, field: "\(register.path).address",
                                  message: "address \(definition.address) plus address_offset \(spec.addressOffset) overflows")
            }
            definition.address = shifted
            definition.writeMultiple = spec.writeMultiple ?? inheritedWriteMultiple
            definition.writeByteOrder = register.writeByteOrder ?? spec.writeByteOrder ?? inheritedWriteOrder
            try validate(definition, spec: register)
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
        try checkMetricNameCollisions(base.registers, spec: spec)
        return base
    }

    private func validate(_ r: RegisterDefinition, spec: RegisterSpec) throws {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(.invalidValue, file: spec.file, line: spec.line, field: "\(spec.path).\(field)", message: message)
        }
        guard let first = r.name.first, first.isLetter || first == "_",
              r.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw fail("name", "register name \"\(r.name)\" must start with a letter or '_' and contain only letters, digits and '_' (it becomes a metric name)")
        }
        if Self.reservedNames.contains(r.name) {
            throw fail("name", "register name \"\(r.name)\" collides with the daemon's own metric heatpump_\(r.name)")
        }
        guard ConfigLimits.modbusAddress.contains(r.address) else {
            throw fail("address", "address \(r.address) is out of range 0-65535 (after the model's address_offset)")
        }
        // The address is at most 65535 here and count at most 4: the sum cannot overflow.
        if r.address + r.count - 1 > ConfigLimits.modbusAddress.upperBound {
            throw fail("data_type", "\(r.dataType.rawValue) needs \(r.count) registers but only \(65536 - r.address) remain after address \(r.address)")
        }
        if r.registerType.isBitTable && r.dataType != .bool {
            throw fail("data_type", "\(r.registerType.rawValue) registers hold single bits; data_type must be bool, found \(r.dataType.rawValue)")
        }
        if !r.enumValues.isEmpty && !r.dataType.isInteger {
            throw fail("enum_values", "enum_values need an integer data_type, found \(r.dataType.rawValue)")
        }
        if r.isBitmap && !r.dataType.isInteger {
            throw fail("unit", "bitmap needs an integer data_type, found \(r.dataType.rawValue)")
        }
        guard r.scale != 0 && r.scale.isFinite else { throw fail("scale", "scale must be a non-zero number") }
        if let lo = r.min, let hi = r.max, lo > hi { throw fail("min", "min \(lo) is greater than max \(hi)") }
        let range = Self.rawRange(r.dataType)
        for raw in r.unavailable where !range.contains(raw) {
            throw fail("unavailable", "unavailable value \(raw) cannot occur in a \(r.dataType.rawValue) register (raw range \(range.lowerBound)…\(range.upperBound))")
        }
    }

    /// Raw values accepted in `unavailable`: both signed and unsigned spellings of the same bits.
    static func rawRange(_ type: DataType) -> ClosedRange<Int64> {
        switch type {
        case .bool: 0...1
        case .int8, .uint8: -128...255
        case .int16, .uint16: -32768...65535
        case .int32, .uint32, .float32: Int64(Int32.min)...Int64(UInt32.max)
        case .int64, .uint64, .float64: Int64.min...Int64.max
        }
    }

    private func checkMetricNameCollisions(_ registers: [RegisterDefinition], spec: ModelSpec) throws {
        var owners: [String: String] = [:]
        for r in registers {
            var names = [r.name]
            if r.isEnum { names.append("\(r.name)_state") }
            if r.isBitmap { names.append("\(r.name)_bit") }
            for metric in names {
                if let other = owners[metric], other != r.name {
                    throw ConfigError(.duplicate, file: spec.file, line: spec.line, field: "models.\(spec.name)",
                                      message: "registers \"\(other)\" and \"\(r.name)\" would both export heatpump_\(metric)")
                }
                owners[metric] = r.name
            }
        }
    }
}
