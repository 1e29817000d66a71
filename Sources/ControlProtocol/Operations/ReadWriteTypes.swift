/// One decoded register value.
public struct RegisterReading: Sendable, Codable, Hashable {
    public enum Value: Sendable, Codable, Hashable {
        case number(Double)
        case text(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .number(let number): try container.encode(number)
            case .text(let text): try container.encode(text)
            }
        }
    }

    public var register: String
    public var value: Value
    /// The enum label, where the register has one.
    public var label: String?
    /// Set bits (0 = least significant) of a bitmap register.
    public var bits: [Int]?

    public init(register: String, value: Value, label: String? = nil, bits: [Int]? = nil) {
        self.register = register
        self.value = value
        self.label = label
        self.bits = bits
    }
}

/// `read`: the named registers (all when empty), read now.
public struct ReadRequest: Sendable, Codable, Hashable {
    public var id: String
    public var registers: [String]?
    public init(id: String, registers: [String]? = nil) {
        self.id = id
        self.registers = registers
    }
}

public struct ReadResponse: Sendable, Codable, Hashable {
    public var id: String
    public var values: [RegisterReading]

    public init(id: String, values: [RegisterReading]) {
        self.id = id
        self.values = values
    }
}

/// A value to write: text as typed, or a JSON number or boolean.
public struct WriteValue: Sendable, Codable, Hashable {
    public var text: String

    public init(_ text: String) { self.text = text }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) { text = flag ? "true" : "false"; return }
        if let number = try? container.decode(Double.self) {
            guard number.isFinite else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a finite number") }
            text = Int64(exactly: number).map { String($0) } ?? "\(number)"
            return
        }
        guard let text = try? container.decode(String.self) else {
            throw DecodingError.typeMismatch(WriteValue.self, .init(codingPath: decoder.codingPath, debugDescription: "string or number"))
        }
        self.text = text
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// `write`: the validated, read-back, audited write of one register.
public struct WriteRequest: Sendable, Codable, Hashable {
    public var id: String
    public var register: String
    /// Absent only for pulse registers (their fixed trigger value is sent) or with `clear`.
    public var value: WriteValue?
    /// Who asked, for the audit (the socket's default is `control-socket`).
    public var client: String?
    /// Stop re-sending a cyclic register's wanted value instead of writing.
    public var clear: Bool?

    public init(id: String, register: String, value: WriteValue?, client: String? = nil, clear: Bool? = nil) {
        self.id = id
        self.register = register
        self.value = value
        self.client = client
        self.clear = clear
    }
}

/// `write` with `clear: true`.
public struct ClearResponse: Sendable, Codable, Hashable {
    public var id: String
    public var register: String
    public var cleared: Bool
    public init(id: String, register: String, cleared: Bool = true) {
        self.id = id
        self.register = register
        self.cleared = cleared
    }
}

public struct WriteResponse: Sendable, Codable, Hashable {
    public var id: String
    public var register: String
    public var requested: Double
    public var previous: Double?
    public var readBack: Double?
    public var verified: Bool
    /// `verified`, `unverified`, `sent` (no read-back: pulse) or `unchanged` (nothing written).
    public var outcome: String
    public var audited: Bool
    /// Set for cyclic registers: the value is re-sent this often until cleared.
    public var refreshInterval: Double?

    public init(id: String, register: String, requested: Double, previous: Double? = nil, readBack: Double? = nil, verified: Bool,
                outcome: String, audited: Bool, refreshInterval: Double? = nil) {
        self.id = id
        self.register = register
        self.requested = requested
        self.previous = previous
        self.readBack = readBack
        self.verified = verified
        self.outcome = outcome
        self.audited = audited
        self.refreshInterval = refreshInterval
    }

    enum CodingKeys: String, CodingKey {
        case id, register, requested, previous, verified, outcome, audited
        case readBack = "read_back"
        case refreshInterval = "refresh_interval"
    }
}

/// `test`: a read of every register of a device that is not added.
public struct TestResponse: Sendable, Codable, Hashable {
    public var id: String
    public var requests: Int
    public var duration: Double
    public var rejected: [String]
    public var values: [RegisterReading]

    public init(id: String, requests: Int, duration: Double, rejected: [String], values: [RegisterReading]) {
        self.id = id
        self.requests = requests
        self.duration = duration
        self.rejected = rejected
        self.values = values
    }
}
