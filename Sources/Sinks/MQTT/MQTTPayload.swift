import HPCore

/// Payloads the sink publishes. Hand-written JSON like `ReadingJSON` (it runs for every poll).
enum MQTTPayload {
    /// The state topic: `{"heatpump_id", "timestamp", "up", "last_success", "registers": {name: value, name_label: …}}`.
    /// `registers` are those of the last successful poll (kept while the device is down, with `up: false`).
    static func state(device: DeviceLabels, timestamp: Double, up: Bool, lastSuccess: Double?, registers: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + registers.utf8.count)
        out.append(contentsOf: #"{"heatpump_id":"#.utf8)
        ByteText.appendJSONString(device.id, to: &out)
        out.append(contentsOf: #","timestamp":"#.utf8)
        ByteText.append(timestamp, to: &out)
        out.append(contentsOf: (up ? #","up":true"# : #","up":false"#).utf8)
        out.append(contentsOf: #","last_success":"#.utf8)
        if let lastSuccess { ByteText.append(lastSuccess, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","registers":"#.utf8)
        out.append(contentsOf: registers.utf8)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A per-register topic: the number as text, an enumeration's label (the number when the value has none),
    /// `1`/`0` for booleans, text as is.
    static func value(_ sample: Sample) -> [UInt8] {
        var out: [UInt8] = []
        if let label = sample.label { return Array(label.utf8) }
        switch sample.value {
        case .int(let v): ByteText.append(v, to: &out)
        case .uint(let v): ByteText.append(v, to: &out)
        case .double(let v):
            if v.isFinite { ByteText.append(v, to: &out) } else { out.append(contentsOf: "null".utf8) }
        case .bool(let v): out.append(v ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        case .string(let v): out.append(contentsOf: v.utf8)
        }
        return out
    }

    static let online = Array("online".utf8)
    static let offline = Array("offline".utf8)
}
