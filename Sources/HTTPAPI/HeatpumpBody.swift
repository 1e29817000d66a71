import ControlProtocol
import HPCore

/// `POST /api/heatpumps` and `PUT /api/heatpumps/{id}` in idm_logger's shape, plus our optional keys.
struct HeatpumpBody: Decodable, Sendable {
    struct Connection: Decodable, Sendable {
        var host: String
        var port: Int?
        var unitID: Int?
        var timeout: Double?
        var retries: Int?

        enum CodingKeys: String, CodingKey {
            case host, port, timeout, retries
            case unitID = "unit_id"
        }
    }

    var id: String?
    var name: String
    var manufacturer: String?
    var model: String
    var location: String?
    var enabled: Bool?
    var pollInterval: Double?
    var connection: Connection
    /// idm_logger's `{"circuits": ["A","B"], "zones": [0]}`: the model's template instances,
    /// validated by the same device parser as heatpumps.yml and the socket (400 when they do not fit).
    var config: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case id, name, manufacturer, model, location, enabled, connection, config
        case pollInterval = "poll_interval"
    }

    /// The heatpumps.yml entry this body describes (validated afterwards exactly like a socket `add`).
    func spec(id: String, models: [String: ModelDefinition]) throws -> DeviceSpec {
        if let manufacturer, let model = models[model], !model.manufacturer.isEmpty,
           model.manufacturer.caseInsensitiveCompare(manufacturer) != .orderedSame {
            throw CommandError(.rejected, "model \(self.model) is made by \(model.manufacturer), not \(manufacturer)")
        }
        var modbus: [String: JSONValue] = ["type": .string("tcp"), "host": .string(connection.host)]
        if let port = connection.port { modbus["port"] = JSONValue(port) }
        if let unit = connection.unitID { modbus["unit_id"] = JSONValue(unit) }
        if let timeout = connection.timeout { modbus["timeout"] = .number(timeout) }
        if let retries = connection.retries { modbus["retries"] = JSONValue(retries) }
        var entry: [String: JSONValue] = ["id": .string(id), "name": .string(name), "model": .string(model), "modbus": .object(modbus)]
        if let location { entry["location"] = .string(location) }
        if let enabled { entry["enabled"] = .bool(enabled) }
        if let pollInterval { entry["poll_interval"] = .number(pollInterval) }
        if let config, !config.isEmpty { entry["config"] = .object(config) }
        return .object(entry)
    }

    /// An id from the name when none is given: lower-case letters, digits, `-` and `_`.
    static func slug(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-_")
        let mapped = name.lowercased().map { allowed.contains($0) ? $0 : "-" }
        let trimmed = String(mapped).split(separator: "-", omittingEmptySubsequences: true).joined(separator: "-")
        return String((trimmed.isEmpty ? "heatpump" : trimmed).prefix(48))
    }
}

/// `PATCH /api/heatpumps/{id}`: only the keys given change.
struct HeatpumpPatch: Decodable, Sendable {
    var name: String?
    var location: String?
    var model: String?
    var enabled: Bool?
    var pollInterval: Double?
    var connection: [String: JSONValue]?
    /// Template instances; replaces the device's whole `config`.
    var config: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case name, location, model, enabled, connection, config
        case pollInterval = "poll_interval"
    }
}

/// A device as its heatpumps.yml entry (for PATCH: the current entry with the patch applied).
enum DeviceEntry {
    static func entry(_ d: DeviceConfig) -> [String: JSONValue] {
        var modbus: [String: JSONValue] = ["unit_id": JSONValue(d.modbus.unitID), "timeout": .number(d.modbus.timeout),
                                           "retries": JSONValue(d.modbus.retries), "retry_delay": .number(d.modbus.retryDelay)]
        switch d.modbus.transport {
        case .tcp(let host, let port):
            modbus["type"] = .string("tcp")
            modbus["host"] = .string(host)
            modbus["port"] = JSONValue(port)
        case .rtu(let serial):
            modbus["type"] = .string("rtu")
            modbus["port"] = .string(serial.device)
            modbus["baudrate"] = JSONValue(serial.baudrate)
            modbus["bytesize"] = JSONValue(serial.bytesize)
            modbus["parity"] = .string(String(serial.parity))
            modbus["stopbits"] = JSONValue(serial.stopbits)
        }
        var e: [String: JSONValue] = ["id": .string(d.id), "name": .string(d.name), "location": .string(d.location), "model": .string(d.model),
                                      "enabled": .bool(d.enabled), "modbus": .object(modbus)]
        // A device that follows collector.poll_interval keeps following it (a live change of the default reaches it).
        if !d.inheritsPollInterval { e["poll_interval"] = .number(d.pollInterval) }
        // The template instances too, or a PATCH or test of a device with circuits would silently drop them.
        if !d.templateConfig.isEmpty {
            e["config"] = .object(d.templateConfig.mapValues { .array($0.map(JSONValue.string)) })
        }
        return e
    }

    static func patched(_ d: DeviceConfig, _ patch: HeatpumpPatch) -> [String: JSONValue] {
        var e = entry(d)
        if let v = patch.name { e["name"] = .string(v) }
        if let v = patch.location { e["location"] = .string(v) }
        if let v = patch.model { e["model"] = .string(v) }
        if let v = patch.enabled { e["enabled"] = .bool(v) }
        if let v = patch.pollInterval { e["poll_interval"] = .number(v) }
        if let v = patch.config { e["config"] = .object(v) }
        if let connection = patch.connection, case .object(var modbus)? = e["modbus"] {
            for (key, value) in connection { modbus[key == "unit_id" ? "unit_id" : key] = value }
            e["modbus"] = .object(modbus)
        }
        return e
    }
}

/// `POST /api/heatpumps/{id}/enable`.
struct EnableBody: Decodable, Sendable { var enabled: Bool }

/// `POST /api/control/{id}`: idm_logger's write.
struct ControlBody: Decodable, Sendable {
    var sensor: String
    var value: WriteValue
}
