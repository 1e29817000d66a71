/// Parses HPManager's `heatpumps.yml` (`heatpumps: [ … ]`).
struct DevicesFileParser {
    let expander: EnvironmentExpander
    let defaultPollInterval: Double

    struct Located {
        var device: DeviceConfig
        var line: Int
        var path: String
        var file: String
    }

    func parse(text: String, file: String) throws -> [Located] {
        guard let root = try YAMLDocument.compose(text, file: file, expander: expander) else { return [] }
        let top = try root.mapping()
        var devices: [Located] = []
        for node in try top.optional("heatpumps")?.sequence() ?? [] {
            devices.append(Located(device: try parseDevice(node), line: node.line, path: node.path, file: file))
        }
        try top.rejectUnknownKeys()
        return devices
    }

    func parseDevice(_ node: YAMLNode) throws -> DeviceConfig {
        let map = try node.mapping()
        let idNode = try map.required("id")
        let id = try idNode.string()
        guard Self.isValidID(id) else {
            throw idNode.error(.invalidValue, "id \"\(id)\" must be 1-64 characters of letters, digits, '_', '-' or '.', starting with a letter, digit or '_'")
        }
        let modbusNode = try map.required("modbus")
        var device = DeviceConfig(
            id: id,
            name: try map.string("name", default: id),
            location: try map.string("location", default: ""),
            model: try map.required("model").string(),
            enabled: try map.bool("enabled", default: true),
            modbus: try parseModbus(modbusNode),
            pollInterval: try map.seconds("poll_interval", default: defaultPollInterval, within: ConfigLimits.pollInterval)
        )
        device.inheritsPollInterval = map.optional("poll_interval") == nil
        if let configNode = map.optional("config") {
            device.templateConfig = try Self.templateConfig(configNode)
        }
        try map.rejectUnknownKeys()
        return device
    }

    /// `config: {circuits: [A, B], zones: [0, 1]}`: key → instance names (checked against the model later).
    static func templateConfig(_ node: YAMLNode) throws -> [String: [String]] {
        let map = try node.mapping()
        var result: [String: [String]] = [:]
        for key in map.keys {
            guard let value = map.optional(key) else { result[key] = []; continue }  // `zones:` alone: none
            result[key] = try RegistersFileParser.instanceList(value)
        }
        return result
    }

    /// A DNS name or an IPv4/IPv6 literal: ASCII letters, digits, `.`, `-`, `_`, and `:`/`%` for IPv6
    /// (control characters or spaces would otherwise reach getaddrinfo and the logs).
    static func isValidHost(_ host: String) -> Bool {
        guard (1...253).contains(host.utf8.count), !host.hasPrefix("-") else { return false }
        return host.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x2D || c == 0x5F || c == 0x3A || c == 0x25
        }
    }

    /// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}`: `.` and `..` read as paths and a leading `-` as a command-line option.
    static func isValidID(_ id: String) -> Bool {
        func word(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || c == "_") }
        guard let first = id.first, word(first), id.count <= 64 else { return false }
        return id.allSatisfy { word($0) || $0 == "-" || $0 == "." }
    }

    private func parseModbus(_ node: YAMLNode) throws -> ModbusSettings {
        let map = try node.mapping()
        let typeNode = map.optional("type")
        let type = try typeNode?.string().lowercased() ?? "tcp"
        let transport: ModbusSettings.Transport
        let unitLimit: ClosedRange<Int>
        switch type {
        case "tcp":
            let host = try map.required("host").string()
            guard !host.isEmpty else { throw node.error(.invalidValue, "host must not be empty") }
            guard Self.isValidHost(host) else {
                throw node.error(.invalidValue, "host must be a host name or IP address (letters, digits, '.', '-', '_', ':' for IPv6; at most 253), found \"\(host.debugDescription.dropFirst().dropLast())\"")
            }
            let portNode = map.optional("port")
            let port = try portNode?.int() ?? 502
            guard ConfigLimits.tcpPort.contains(port) else {
                throw (portNode ?? node).error(.invalidValue, "port \(port) is out of range 1-65535")
            }
            transport = .tcp(host: host, port: port)
            unitLimit = 0...255
        case "rtu":
            let deviceNode = try map.required("port")
            let device = try deviceNode.string()
            guard device.hasPrefix("/") else {
                throw deviceNode.error(.invalidValue, "for type rtu, port is the serial device path (e.g. /dev/ttyUSB0), found \"\(device)\"")
            }
            let baud = try map.int("baudrate", default: 9600, within: ConfigLimits.baudrate)
            let sizeNode = map.optional("bytesize")
            let size = try sizeNode?.int() ?? 8
            guard (5...8).contains(size) else { throw (sizeNode ?? node).error(.invalidValue, "bytesize must be 5-8, found \(size)") }
            let parityNode = map.optional("parity")
            let parityText = try parityNode?.string().uppercased() ?? "N"
            guard let parity = parityText.first, parityText.count == 1, "NEO".contains(parity) else {
                throw (parityNode ?? node).error(.invalidValue, "parity must be N, E or O, found \"\(parityText)\"")
            }
            let stopNode = map.optional("stopbits")
            let stop = try stopNode?.int() ?? 1
            guard stop == 1 || stop == 2 else { throw (stopNode ?? node).error(.invalidValue, "stopbits must be 1 or 2, found \(stop)") }
            transport = .rtu(SerialSettings(device: device, baudrate: baud, bytesize: size, parity: parity, stopbits: stop))
            unitLimit = 1...247
        default:
            throw (typeNode ?? node).error(.invalidValue, "type must be tcp or rtu, found \"\(type)\"")
        }
        let unitNode = map.optional("unit_id")
        let unit = try unitNode?.int() ?? 1
        guard unitLimit.contains(unit) else {
            throw (unitNode ?? node).error(.invalidValue, "unit_id \(unit) is out of range \(unitLimit.lowerBound)-\(unitLimit.upperBound) for \(type)")
        }
        let retriesNode = map.optional("retries")
        let retries = try retriesNode?.int() ?? 3
        guard ConfigLimits.retries.contains(retries) else { throw (retriesNode ?? node).error(.invalidValue, "retries must be \(ConfigLimits.retries.lowerBound)-\(ConfigLimits.retries.upperBound), found \(retries)") }
        let settings = ModbusSettings(
            transport: transport,
            unitID: unit,
            timeout: try map.seconds("timeout", default: 5, within: ConfigLimits.modbusTimeout),
            retries: retries,
            retryDelay: try map.seconds("retry_delay", default: 1, within: ConfigLimits.retryDelay)
        )
        try map.rejectUnknownKeys()
        return settings
    }
}
