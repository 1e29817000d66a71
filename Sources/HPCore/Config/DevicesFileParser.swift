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
            throw idNode.error(.invalidValue, "id \"\(id)\" must be 1-64 characters of letters, digits, '_', '-' or '.'")
        }
        let modbusNode = try map.required("modbus")
        let device = DeviceConfig(
            id: id,
            name: try map.string("name", default: id),
            location: try map.string("location", default: ""),
            model: try map.required("model").string(),
            enabled: try map.bool("enabled", default: true),
            modbus: try parseModbus(modbusNode),
            pollInterval: try positive(map.optional("poll_interval"), default: defaultPollInterval) { try $0.seconds() }
        )
        try map.rejectUnknownKeys()
        return device
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }
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
            let portNode = map.optional("port")
            let port = try portNode?.int() ?? 502
            guard (1...65535).contains(port) else {
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
            let baudNode = map.optional("baudrate")
            let baud = try baudNode?.int() ?? 9600
            guard baud > 0 else { throw (baudNode ?? node).error(.invalidValue, "baudrate must be positive") }
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
        guard (0...10).contains(retries) else { throw (retriesNode ?? node).error(.invalidValue, "retries must be 0-10, found \(retries)") }
        let settings = ModbusSettings(
            transport: transport,
            unitID: unit,
            timeout: try positive(map.optional("timeout"), default: 5) { try $0.seconds() },
            retries: retries,
            retryDelay: try nonNegative(map.optional("retry_delay"), default: 1) { try $0.seconds() }
        )
        try map.rejectUnknownKeys()
        return settings
    }
}

func positive(_ node: YAMLNode?, default fallback: Double, _ read: (YAMLNode) throws -> Double) throws -> Double {
    guard let node else { return fallback }
    let value = try read(node)
    guard value > 0 else { throw node.error(.invalidValue, "must be greater than 0, found \(value)") }
    return value
}

func nonNegative(_ node: YAMLNode?, default fallback: Double, _ read: (YAMLNode) throws -> Double) throws -> Double {
    guard let node else { return fallback }
    let value = try read(node)
    guard value >= 0 else { throw node.error(.invalidValue, "must not be negative, found \(value)") }
    return value
}
