import Foundation

/// Loads `heatpumps.yml`, `registers.yml`, `collector.yml` and `display.yml` from a directory and validates them as one.
///
/// Nothing is half-applied: either a complete `Configuration` comes back or `ConfigErrors` listing
/// every problem with file, line, field and reason.
public struct ConfigLoader: Sendable {
    public static let devicesFile = "heatpumps.yml"
    public static let registersFile = "registers.yml"
    public static let collectorFile = "collector.yml"
    public static let displayFile = "display.yml"
    /// Every file `load` reads, in the order it reads them.
    public static let fileNames = [collectorFile, registersFile, devicesFile, displayFile]

    /// Built-in model files (name, YAML text) in the `registers.yml` schema.
    public var builtinModelFiles: [(name: String, text: String)]
    public var environment: [String: String]

    public init(builtinModelFiles: [(name: String, text: String)],
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.builtinModelFiles = builtinModelFiles
        self.environment = environment
    }

    public func load(directory: String) throws -> Configuration {
        let dir = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        return try load(directory: dir) { path, required, errors in Self.readFile(path, required: required, errors: &errors) }
    }

    /// Loads from file texts held in memory (file name → text; an absent name is an absent file), with
    /// the same validation as `load(directory:)`; messages name `directory/<file>`.
    public func load(files: [String: String], directory: String = ".") throws -> Configuration {
        try load(directory: directory) { path, required, errors in
            let name = String(path.dropFirst(directory.count + 1))
            guard let text = files[name] else {
                if required { errors.append(ConfigError(.unreadableFile, file: path, line: 0, field: "", message: "file not found")) }
                return nil
            }
            return text
        }
    }

    private typealias FileSource = (_ path: String, _ required: Bool, _ errors: inout [ConfigError]) -> String?

    private func load(directory dir: String, read: FileSource) throws -> Configuration {
        let expander = EnvironmentExpander(environment: environment)
        var errors: [ConfigError] = []

        // collector.yml first: devices take their default poll interval from it.
        var collector = CollectorConfig()
        let collectorPath = "\(dir)/\(Self.collectorFile)"
        if let text = read(collectorPath, false, &errors) {
            do { collector = try CollectorFileParser(expander: expander).parse(text: text, file: collectorPath) } catch { errors.append(Self.located(error, collectorPath)) }
        }

        let specs = modelSpecs(directory: dir, expander: expander, read: read, errors: &errors)
        let models = ModelResolver(specs: specs).resolveAll(errors: &errors)

        var devices: [DeviceConfig] = []
        let devicesPath = "\(dir)/\(Self.devicesFile)"
        if let text = read(devicesPath, true, &errors) {
            do {
                let parser = DevicesFileParser(expander: expander, defaultPollInterval: collector.collector.pollInterval)
                let located = try parser.parse(text: text, file: devicesPath)
                devices = validateDevices(located, models: models, errors: &errors)
            } catch {
                errors.append(Self.located(error, devicesPath))
            }
        }
        // Named bits are samples like registers: alerts may watch them too.
        // Text registers have no number to compare with a threshold.
        // Template registers count with every instance (`circuit_a.flow_temp`): a rule may watch any.
        let allRegisters = models.values.flatMap(\.everyInstance.registers)
        let knownRegisters = Set(allRegisters.filter { $0.dataType != .string }.flatMap { [$0.name] + $0.bitmapFields.map(\.name) })
        let textRegisters = Set(allRegisters.filter { $0.dataType == .string }.map(\.name))
        for rule in collector.alerts {
            let watched: String? = switch rule.condition {
            case .above(let register, _), .below(let register, _): register
            default: nil
            }
            guard let register = watched, !knownRegisters.contains(register) else { continue }
            let message = textRegisters.contains(register)
                ? "register \"\(register)\" is a string register; above/below compare numbers"
                : "no model has a register named \"\(register)\""
            errors.append(ConfigError(.invalidValue, file: collectorPath, line: 0, field: "alerts.\(rule.name).register", message: message))
        }
        // A site label named like a template's instance label (`circuit`) would appear twice on its series.
        let instanceLabels = Set(allRegisters.compactMap(\.instance).flatMap(\.labels).map(\.name))
        for label in collector.site.labels where instanceLabels.contains(label.name) {
            errors.append(ConfigError(.invalidValue, file: collectorPath, line: 0, field: "site.labels.\(label.name)",
                                      message: "label name \"\(label.name)\" clashes with a register template's instance label"))
        }
        var display = DisplaySettings()
        var warnings: [ConfigError] = []
        let displayPath = "\(dir)/\(Self.displayFile)"
        if let text = read(displayPath, false, &errors) {
            do {
                let parsed = try DisplayFileParser(expander: expander).parse(text: text, file: displayPath)
                display = parsed.settings
                warnings = DisplayFileParser.check(parsed, file: displayPath, devices: devices, models: models, errors: &errors)
            } catch {
                errors.append(Self.located(error, displayPath))
            }
        }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        return Configuration(devices: devices, models: models, collector: collector, display: display, warnings: warnings, directory: dir)
    }

    /// Parses one device given as YAML/JSON text (for runtime additions), validated against `models`.
    ///
    /// The text comes from a client (control socket, HTTP, or the registry those clients filled), so
    /// `${VAR}` is kept literally: expansion would hand the daemon's environment (tokens) to any client.
    public func parseDevice(text: String, source: String, models: [String: ModelDefinition], defaultPollInterval: Double) throws -> DeviceConfig {
        let expander = EnvironmentExpander.verbatim
        guard let node = try YAMLDocument.compose(text, file: source, expander: expander) else {
            throw ConfigError(.missingKey, file: source, line: 0, field: "", message: "empty device specification")
        }
        let device = try DevicesFileParser(expander: expander, defaultPollInterval: defaultPollInterval).parseDevice(node)
        guard let model = models[device.model] else {
            throw ConfigError(.unknownModel, file: source, line: node.line, field: "model",
                              message: "unknown model \"\(device.model)\"; known models: \(models.keys.sorted().joined(separator: ", "))")
        }
        if let problem = model.templateProblem(device.templateConfig) {
            throw ConfigError(.invalidValue, file: source, line: node.line, field: "config", message: problem)
        }
        return device
    }

    /// Parses alert rules given as YAML/JSON text (a list, as under `alerts:` in collector.yml) for
    /// live settings; `${VAR}` stays literal, as for any client input.
    public func parseAlertRules(text: String, source: String) throws -> [AlertRule] {
        let expander = EnvironmentExpander.verbatim
        guard let node = try YAMLDocument.compose(text, file: source, expander: expander) else { return [] }
        return try CollectorFileParser(expander: expander).alerts(node)
    }

    private func modelSpecs(directory: String, expander: EnvironmentExpander, read: FileSource, errors: inout [ConfigError]) -> [String: ModelSpec] {
        let parser = RegistersFileParser(expander: expander)
        var specs: [String: ModelSpec] = [:]
        for (name, text) in builtinModelFiles {
            do {
                for spec in try parser.parse(text: text, file: "builtin:\(name)") { specs[spec.name] = spec }
            } catch {
                errors.append(Self.located(error, "builtin:\(name)"))
            }
        }
        let path = "\(directory)/\(Self.registersFile)"
        do {
            if let text = read(path, false, &errors) {
                // A user model with a built-in's name replaces it; use `extends` to override single registers.
                for spec in try parser.parse(text: text, file: path) { specs[spec.name] = spec }
            }
        } catch {
            errors.append(Self.located(error, path))
        }
        return specs
    }

    private func validateDevices(_ located: [DevicesFileParser.Located], models: [String: ModelDefinition],
                                 errors: inout [ConfigError]) -> [DeviceConfig] {
        var seen: [String: Int] = [:]
        var buses: [String: (SerialSettings, Int)] = [:]
        var devices: [DeviceConfig] = []
        for item in located {
            let device = item.device
            if let line = seen[device.id] {
                errors.append(ConfigError(.duplicate, file: item.file, line: item.line, field: "\(item.path).id",
                                          message: "duplicate id \"\(device.id)\" (first defined at line \(line))"))
                continue
            }
            seen[device.id] = item.line
            guard let model = models[device.model] else {
                errors.append(ConfigError(.unknownModel, file: item.file, line: item.line, field: "\(item.path).model",
                                          message: "unknown model \"\(device.model)\"; known models: \(models.keys.sorted().joined(separator: ", "))"))
                continue
            }
            if let problem = model.templateProblem(device.templateConfig) {
                errors.append(ConfigError(.invalidValue, file: item.file, line: item.line, field: "\(item.path).config", message: problem))
                continue
            }
            if case .rtu(let serial) = device.modbus.transport {
                if let (other, line) = buses[serial.device], other != serial {
                    errors.append(ConfigError(.invalidValue, file: item.file, line: item.line, field: "\(item.path).modbus",
                                              message: "serial bus \(serial.device) is configured differently at line \(line); all devices on one bus need the same baudrate, bytesize, parity and stopbits"))
                    continue
                }
                buses[serial.device] = (serial, item.line)
            }
            devices.append(device)
        }
        return devices
    }

    private static func readFile(_ path: String, required: Bool, errors: inout [ConfigError]) -> String? {
        guard FileManager.default.fileExists(atPath: path) else {
            if required {
                errors.append(ConfigError(.unreadableFile, file: path, line: 0, field: "", message: "file not found"))
            }
            return nil
        }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            errors.append(ConfigError(.unreadableFile, file: path, line: 0, field: "", message: "cannot read: \(error.localizedDescription)"))
            return nil
        }
    }

    private static func located(_ error: any Error, _ file: String) -> ConfigError {
        if let configError = error as? ConfigError { return configError }
        return ConfigError(.invalidValue, file: file, line: 0, field: "", message: "\(error)")
    }
}
