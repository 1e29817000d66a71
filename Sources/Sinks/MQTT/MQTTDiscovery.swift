import Foundation
import HPCore

/// Home Assistant MQTT discovery: one config message per register, all of a heat pump's grouped into
/// one HA device. Component: `binary_sensor` for 0/1 values (bool, bits, named bitmap fields),
/// `sensor` otherwise; with writes allowed, writable registers become `select` (enumerations),
/// `switch` (booleans) or `number` (min/max/step from the register).
struct MQTTDiscovery: Sendable {
    let topics: MQTTTopics
    let prefix: String
    let allowWrites: Bool
    let version: String

    /// HA's node and object ids: `[a-zA-Z0-9_-]`.
    static func identifier(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { c in
            (c.isASCII && (CharacterSet.alphanumerics.contains(c) || c == "_" || c == "-")) ? c : "_"
        }))
    }

    func node(_ device: DeviceLabels) -> String { Self.identifier("hpmanager_\(topics.site)_\(device.id)") }

    /// Config messages (topic, JSON) for every register the device publishes.
    func messages(device: DeviceLabels, registers: [RegisterDefinition]) -> [(topic: String, payload: [UInt8])] {
        var out: [(String, [UInt8])] = []
        var seen: Set<String> = []
        for r in registers where r.access.isReadable {
            if r.isBitmap {
                for field in r.bitmapFields where seen.insert(field.name).inserted {
                    if let m = message(device: device, name: field.name, component: "binary_sensor", fields: binary()) { out.append(m) }
                }
                continue
            }
            guard seen.insert(r.name).inserted else { continue }
            if let m = entity(device: device, r) { out.append(m) }
        }
        return out
    }

    private func entity(device: DeviceLabels, _ r: RegisterDefinition) -> (String, [UInt8])? {
        let writable = allowWrites && r.access.isWritable && r.writeTableIsWritable && r.writeClass != .pulse
        let command: [String: Any] = writable ? ["command_topic": topics.set(device.id, r.name) ?? ""] : [:]
        let isBinary = r.dataType == .bool || r.bit != nil || r.registerType == .coil || r.registerType == .discrete
        if isBinary {
            return writable
                ? message(device: device, name: r.name, component: "switch", fields: binary().merging(command) { $1 }.merging(["state_on": "1", "state_off": "0"]) { $1 })
                : message(device: device, name: r.name, component: "binary_sensor", fields: binary())
        }
        if r.isEnum {
            let options = r.enumValues.sorted { $0.key < $1.key }.map(\.value)
            if writable { return message(device: device, name: r.name, component: "select", fields: command.merging(["options": options]) { $1 }) }
            return message(device: device, name: r.name, component: "sensor", fields: ["device_class": "enum", "options": options])
        }
        var fields: [String: Any] = [:]
        if r.dataType != .string {
            let (deviceClass, unit) = Self.unit(r.unit)
            if let deviceClass { fields["device_class"] = deviceClass }
            if let unit { fields["unit_of_measurement"] = unit }
            fields["state_class"] = r.metricType == .counter ? "total_increasing" : "measurement"
        }
        if writable && r.dataType != .string {
            fields.merge(command) { $1 }
            fields["min"] = r.min ?? -1e9
            fields["max"] = r.max ?? 1e9
            fields["step"] = r.scale > 0 && r.scale < 1 ? r.scale : 1
            fields["mode"] = "box"
            fields.removeValue(forKey: "state_class")
            return message(device: device, name: r.name, component: "number", fields: fields)
        }
        return message(device: device, name: r.name, component: "sensor", fields: fields)
    }

    private func binary() -> [String: Any] { ["payload_on": "1", "payload_off": "0"] }

    private func message(device: DeviceLabels, name: String, component: String, fields: [String: Any]) -> (String, [UInt8])? {
        guard let state = topics.register(device.id, name) else { return nil }
        let node = node(device)
        let object = Self.identifier(name)
        var config: [String: Any] = [
            "name": name.replacingOccurrences(of: "_", with: " "),
            "unique_id": "\(node)_\(object)",
            "object_id": "\(node)_\(object)",
            "state_topic": state,
            "availability": [["topic": topics.status], ["topic": topics.availability(device.id)]],
            "availability_mode": "all",
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": [
                "identifiers": [node],
                "name": device.name.isEmpty ? device.id : device.name,
                "manufacturer": device.manufacturer.isEmpty ? "unknown" : device.manufacturer,
                "model": device.model,
                "suggested_area": device.location,
            ] as [String: Any],
            "origin": ["name": "hpmanager", "sw_version": version],
        ]
        config.merge(fields) { $1 }
        guard let data = try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]) else { return nil }
        return ("\(prefix)/\(component)/\(node)/\(object)/config", Array(data))
    }

    /// HA device class and unit for a register unit as the models write it.
    static func unit(_ unit: String) -> (deviceClass: String?, unit: String?) {
        switch unit.lowercased() {
        case "": (nil, nil)
        case "celsius", "°c", "degc", "c": ("temperature", "°C")
        case "kelvin", "k": ("temperature", "K")
        case "kw": ("power", "kW")
        case "w": ("power", "W")
        case "kwh": ("energy", "kWh")
        case "mwh": ("energy", "MWh")
        case "wh": ("energy", "Wh")
        case "bar": ("pressure", "bar")
        case "hz": ("frequency", "Hz")
        case "v": ("voltage", "V")
        case "a": ("current", "A")
        case "l/min", "lpm": ("volume_flow_rate", "L/min")
        case "m3/h", "m³/h": ("volume_flow_rate", "m³/h")
        case "l/h": ("volume_flow_rate", "L/h")
        case "minutes", "min": ("duration", "min")
        case "hours", "h": ("duration", "h")
        case "seconds", "s": ("duration", "s")
        case "percent", "%": (nil, "%")
        default: (nil, unit)
        }
    }
}
