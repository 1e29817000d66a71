/// A request naming one heat pump: `status`, `remove`, `enable`, `disable`.
public struct DeviceIDRequest: Sendable, Codable, Hashable {
    public var id: String
    public init(id: String) { self.id = id }
}

/// `status` with an optional id.
public struct StatusRequest: Sendable, Codable, Hashable {
    public var id: String?
    public init(id: String? = nil) { self.id = id }
}

/// A device as one `heatpumps.yml` entry, given as a JSON object or as YAML/JSON text.
public enum DeviceSpec: Sendable, Codable, Hashable {
    case object([String: JSONValue])
    case text(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) { self = .text(text); return }
        guard case .object(let object) = try container.decode(JSONValue.self) else {
            throw DecodingError.typeMismatch(DeviceSpec.self, .init(codingPath: decoder.codingPath,
                                                                    debugDescription: "a heatpumps.yml entry as a JSON object or as text"))
        }
        self = .object(object)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .object(let object): try container.encode(object)
        case .text(let text): try container.encode(text)
        }
    }
}

/// `add` and `test`.
public struct DeviceSpecRequest: Sendable, Codable, Hashable {
    public var device: DeviceSpec
    public init(device: DeviceSpec) { self.device = device }
}

/// `update`: replaces a runtime device.
public struct UpdateRequest: Sendable, Codable, Hashable {
    public var id: String
    public var device: DeviceSpec
    public init(id: String, device: DeviceSpec) {
        self.id = id
        self.device = device
    }
}

public struct AddResponse: Sendable, Codable, Hashable {
    public var added: String
    public init(added: String) { self.added = added }
}
public struct UpdateResponse: Sendable, Codable, Hashable {
    public var updated: String
    public init(updated: String) { self.updated = updated }
}
public struct RemoveResponse: Sendable, Codable, Hashable {
    public var removed: String
    public init(removed: String) { self.removed = removed }
}

public struct EnableResponse: Sendable, Codable, Hashable {
    public var id: String
    public var enabled: Bool

    public init(id: String, enabled: Bool) {
        self.id = id
        self.enabled = enabled
    }
}

public struct ReloadResponse: Sendable, Codable, Hashable {
    public var added: [String]
    public var removed: [String]
    public var changed: [String]
    public var unchanged: Int

    public init(added: [String], removed: [String], changed: [String], unchanged: Int) {
        self.added = added
        self.removed = removed
        self.changed = changed
        self.unchanged = unchanged
    }
}

public struct PingResponse: Sendable, Codable, Hashable {
    public var version: String
    public var `protocol`: Int
    /// The SQLite store's path (`hpmanagerctl backup` copies it).
    public var storePath: String?

    public init(version: String, protocol: Int, storePath: String? = nil) {
        self.version = version
        self.`protocol` = `protocol`
        self.storePath = storePath
    }

    enum CodingKeys: String, CodingKey {
        case version, `protocol`
        case storePath = "store_path"
    }
}
