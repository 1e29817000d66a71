import ControlProtocol
import HPCore

/// `GET /health`.
struct Health: Encodable, Sendable {
    var status: String
    var version: String
    var heatpumps: Int
    var enabled: Int
    var up: Int
}

/// `POST /api/heatpumps` → 201.
struct AddedBody: Encodable, Sendable { var id: String }

/// `GET /api/data/{id}`.
struct DataResponse: Encodable, Sendable {
    var id: String
    var timestamp: Double?
    var values: [String: RegisterReading.Value]
}

/// A register as `GET /api/registers/{model}` and a device's capabilities list it.
struct RegisterInfo: Encodable, Sendable {
    var name: String
    var address: Int
    var registerType: String
    var dataType: String
    var unit: String
    var description: String
    var access: String
    var writable: Bool
    var min: Double?
    var max: Double?
    var eeprom: Bool
    var enumValues: [String: String]?
    /// The register group it belongs to (`group:`), nil for registers every poll reads.
    var group: String?
    /// Whether the device's polls read it: ungrouped, or its group is selected (`config: {groups: …}`).
    /// Unpolled registers are read and written on demand only.
    var polled: Bool

    /// `polled` as the model (a device's, with its selected groups) says.
    init(_ r: RegisterDefinition, in model: ModelDefinition) {
        self.init(r, polled: model.isPolled(r))
    }

    init(_ r: RegisterDefinition, polled: Bool) {
        name = r.name
        address = r.address
        registerType = r.registerType.rawValue
        dataType = r.dataType.rawValue
        unit = r.unit
        description = r.description
        access = r.access.rawValue
        writable = r.access.isWritable
        min = r.min
        max = r.max
        eeprom = r.eeprom
        enumValues = r.enumValues.isEmpty ? nil : Dictionary(uniqueKeysWithValues: r.enumValues.map { (String($0.key), $0.value) })
        group = r.group
        self.polled = polled
    }

    enum CodingKeys: String, CodingKey {
        case name, address, unit, description, access, writable, min, max, eeprom, group, polled
        case registerType = "register_type", dataType = "data_type", enumValues = "enum_values"
    }
}

/// `GET /api/heatpumps/{id}`: the status plus capabilities.
struct HeatpumpDetails: Encodable, Sendable {
    /// One derived series the model declares and its latest value (absent while not computable).
    struct Derived: Encodable, Sendable {
        var name: String
        var value: Double?
    }

    var summary: HeatpumpSummary
    var registers: [RegisterInfo]
    var derived: [Derived] = []

    enum CodingKeys: String, CodingKey { case registers, derived }

    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(registers, forKey: .registers)
        try container.encode(derived, forKey: .derived)
    }

    /// The model's derived series (`scop` once per period, and per use and period where split) with the latest poll's values.
    static func derivedValues(_ inputs: DerivedInputs, latest: [String: RegisterReading.Value]) -> [Derived] {
        let uses = inputs.scop?.uses.map(\.name) ?? []
        return inputs.seriesNames.flatMap { name in
            name == DerivedSeries.scop
                ? DerivedSeries.scopPeriods.map { "\(name)_\($0)" } + uses.flatMap { use in DerivedSeries.scopPeriods.map { "\(name)_\(use)_\($0)" } }
                : [name]
        }.map { name in
            guard case .number(let value)? = latest[name], value.isFinite else { return Derived(name: name, value: nil) }
            return Derived(name: name, value: value)
        }
    }
}

/// `GET /api/heatpumps/{id}/history`: `[unix time, value]` points per register.
struct HistoryBody: Encodable, Sendable {
    var id: String
    var minutes: Double
    var series: [String: [[Double]]]
}

/// The last change of one enum/bool register.
struct StateChange: Encodable, Sendable {
    var register: String
    var at: Double
    var from: Double?
    var to: Double
    var fromLabel: String?
    var toLabel: String?

    enum CodingKeys: String, CodingKey {
        case register, at, from, to
        case fromLabel = "from_label", toLabel = "to_label"
    }

    /// The newest point whose value differs from the one before it; the first point when none differs in the window.
    static func last(register: RegisterDefinition, points: [[Double]]) -> StateChange? {
        guard let first = points.first, first.count == 2 else { return nil }
        var change = StateChange(register: register.name, at: first[0], from: nil, to: first[1])
        for (previous, point) in zip(points, points.dropFirst()) where point.count == 2 && previous.count == 2 && point[1] != previous[1] {
            change = StateChange(register: register.name, at: point[0], from: previous[1], to: point[1])
        }
        change.fromLabel = change.from.flatMap { Int64(exactly: $0) }.flatMap { register.enumValues[$0] }
        change.toLabel = Int64(exactly: change.to).flatMap { register.enumValues[$0] }
        return change
    }
}

struct StateChangesBody: Encodable, Sendable {
    var id: String
    var hours: Double
    var changes: [StateChange]
}
