import Drivers
import Foundation
import HPCore
import Testing

/// The built-in IDM and NIBE maps against the community libraries' register tables, register by
/// register: address, function codes, width, signedness, scale, word order, access (and for IDM
/// write class, range, "not available" values and enum keys). The tables are fact files exported by
/// scripts/vendor-facts/export_*.py from the pinned PyPI packages (Tests/Fixtures/vendor-facts/).
@Suite("Built-in maps cross-checked with idm-heatpump-api and nibe", .harnessThreads)
struct VendorLibraryCrossCheckTests {
    struct Facts: Decodable {
        var library: String
        var version: String
        var registers: [Fact]
    }

    struct Fact: Decodable {
        var address: Int
        var table: String
        var read_function: Int
        var write_function: Int?
        var words: Int
        var signed: Bool
        var scale: Double
        var word_order: String?
        var write_word_order: String?
        var writable: Bool
        var min: Double?
        var max: Double?
        var enum_keys: [Int]
        // idm-heatpump-api
        var type: String?
        var write_class: String?
        var unavailable_values: [Double]?
        var models: [String]?
        // nibe
        var number: Int?
        var unit: String?
        var unavailable_limit: Int64?

        enum CodingKeys: String, CodingKey {
            case address, table, read_function, write_function, words, signed, scale, word_order, write_word_order, writable, min, max, enum_keys
            case type, write_class, models, number, unit
            case unavailable
        }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            address = try c.decode(Int.self, forKey: .address)
            table = try c.decode(String.self, forKey: .table)
            read_function = try c.decode(Int.self, forKey: .read_function)
            write_function = try c.decodeIfPresent(Int.self, forKey: .write_function)
            words = try c.decode(Int.self, forKey: .words)
            signed = try c.decode(Bool.self, forKey: .signed)
            scale = try c.decode(Double.self, forKey: .scale)
            word_order = try c.decodeIfPresent(String.self, forKey: .word_order)
            write_word_order = try c.decodeIfPresent(String.self, forKey: .write_word_order)
            writable = try c.decode(Bool.self, forKey: .writable)
            min = try c.decodeIfPresent(Double.self, forKey: .min)
            max = try c.decodeIfPresent(Double.self, forKey: .max)
            enum_keys = try c.decode([Int].self, forKey: .enum_keys)
            type = try c.decodeIfPresent(String.self, forKey: .type)
            write_class = try c.decodeIfPresent(String.self, forKey: .write_class)
            models = try c.decodeIfPresent([String].self, forKey: .models)
            number = try c.decodeIfPresent(Int.self, forKey: .number)
            unit = try c.decodeIfPresent(String.self, forKey: .unit)
            // idm-heatpump-api lists several values per register, nibe one limit per size.
            unavailable_values = try? c.decode([Double].self, forKey: .unavailable)
            unavailable_limit = try? c.decode(Int64.self, forKey: .unavailable)
        }
    }

    static func facts(_ file: String) throws -> Facts {
        let data = try Data(contentsOf: URL(fileURLWithPath: DeployFiles.path("Tests/Fixtures/vendor-facts/\(file)")))
        return try JSONDecoder().decode(Facts.self, from: data)
    }

    /// The model with every circuit, zone, room and climate system.
    static func fullModel(_ name: String) throws -> ModelDefinition {
        let config = try ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])
            .load(files: ["heatpumps.yml": "heatpumps: []\n"], directory: "/cfg")
        return try #require(config.models[name]).everyInstance
    }

    static func table(_ type: RegisterType) -> String {
        switch type {
        case .input: "input"
        case .holding: "holding"
        case .coil: "coil"
        case .discrete: "discrete"
        }
    }

    static func readFunction(_ r: RegisterDefinition) -> Int {
        switch r.registerType {
        case .coil: 1
        case .discrete: 2
        case .holding: 3
        case .input: 4
        }
    }

    /// The function code a write of `r` goes out with, nil when it cannot be written.
    static func writeFunction(_ r: RegisterDefinition) -> Int? {
        guard r.access != .read else { return nil }
        switch r.writeTable {
        case .coil: return 5
        case .holding: return r.writeMultiple || r.count > 1 ? 16 : 6   // DeviceActor+Write: FC06 only for one word without write_multiple
        default: return nil
        }
    }

    static func signed(_ type: DataType) -> Bool {
        switch type {
        case .int8, .int16, .int32, .int64, .float16, .float32, .float64: true
        default: false
        }
    }

    static func order(_ order: ByteOrder) -> String { order.rawValue.uppercased() }

    /// Our raw "not available" value for a library value, in the register's type.
    static func raw(_ value: Double, _ type: DataType) -> Int64? {
        switch type {
        case .float32: Int64(Float(value).bitPattern)
        default: Int64(exactly: value)
        }
    }

    // MARK: IDM

    /// Library registers hpmanager leaves out, and why.
    static let idmLeftOut: [Int: String] = [
        1392: "humidity sensor B31: FLOAT 1392-1393 overlaps circuit A's mode (1393) in iDM's table",
    ]

    @Test("idm-heatpump-api 2.14.4: every register both have agrees (FC04 read, FC16 write, width, type, signedness, scale, CDAB, access, write class, range, sentinels, enum keys); every library register is mapped")
    func idm() throws {
        let facts = try Self.facts("idm-heatpump-api.json")
        #expect(facts.library == "idm-heatpump-api" && facts.version == "2.14.4")
        let model = try Self.fullModel("idm_navigator_2")
        let library = Dictionary(uniqueKeysWithValues: facts.registers.map { ("\($0.table) \($0.address)", $0) })
        let ours = Dictionary(model.registers.map { ("\(Self.table($0.registerType)) \($0.address)", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(ours.count == model.registers.count, "one register per address")
        var compared = 0
        for r in model.registers {
            guard let f = library["\(Self.table(r.registerType)) \(r.address)"] else {
                Issue.record("\(r.name) at \(r.address): not in the library's table")
                continue
            }
            let at = "\(r.name) (\(r.address))"
            #expect(Self.readFunction(r) == f.read_function, "\(at): read FC")
            #expect(Self.writeFunction(r) == f.write_function, "\(at): write FC \(String(describing: Self.writeFunction(r))) vs \(String(describing: f.write_function))")
            #expect(r.count == f.words, "\(at): width")
            #expect(r.dataType.rawValue == f.type, "\(at): type \(r.dataType) vs \(f.type ?? "?")")
            #expect(Self.signed(r.dataType) == f.signed, "\(at): signedness")
            #expect(r.scale == f.scale, "\(at): scale")
            if f.words == 2 { #expect(Self.order(r.byteOrder) == f.word_order, "\(at): word order") }
            #expect((r.access != .read) == f.writable, "\(at): writable")
            if f.writable {
                let ourClass = r.writeClass == .pulse ? "write_only" : r.writeClass.rawValue
                #expect(ourClass == f.write_class, "\(at): write class \(ourClass) vs \(f.write_class ?? "?")")
            }
            if let min = f.min, let max = f.max { #expect(r.min == min && r.max == max, "\(at): range \(String(describing: r.min))...\(String(describing: r.max)) vs \(min)...\(max)") }
            // The library's −1 on INT16 pumps and bivalence points is "pump off" / −1 °C, a value (its docs
            // say so); a write-only register (error acknowledge) is never read.
            for value in f.unavailable_values ?? [] where r.access.isReadable && !(r.dataType == .int16 && (value == -1 || value == 65535)) {
                #expect(Self.raw(value, r.dataType).map { r.unavailable.contains($0) } == true, "\(at): \(value) means not available")
            }
            let keys = Set(f.enum_keys).subtracting([255])   // 255 is a sentinel here
            #expect(keys.isSubset(of: r.enumValues.keys.map { Int($0) }), "\(at): enum keys \(keys.sorted()) vs \(r.enumValues.keys.sorted())")
            compared += 1
        }
        for f in facts.registers where ours["\(f.table) \(f.address)"] == nil && Self.idmLeftOut[f.address] == nil {
            Issue.record("library register at \(f.table) \(f.address) (\(f.type ?? "?")) is not mapped")
        }
        // 7 circuits × 16, 10 zone modules × (2 + 8 rooms × 5), the system table.
        #expect(compared == model.registers.count && compared == facts.registers.count - Self.idmLeftOut.count, "\(compared) of \(facts.registers.count)")
    }

    // MARK: NIBE

    /// Unit conversions between the library's raw unit and ours (scale = library scale × factor).
    static let unitFactor: [String: Double] = ["mA": 0.001]

    /// Library registers hpmanager leaves out, and why: none (no two of NIBE's registers share a word).
    static let nibeLeftOut: [Int: String] = [:]

    @Test("nibe 2.25.0 s1155_s1255.json: every register of our map agrees (number, FC, width, signedness, factor, word order read/write, writable, range, 'no value', enum keys); every library register is mapped, the issue's key registers among them")
    func nibe() throws {
        let facts = try Self.facts("nibe-s1155_s1255.json")
        #expect(facts.library == "nibe" && facts.version == "2.25.0")
        let model = try Self.fullModel("nibe_s1155")
        let library = Dictionary(uniqueKeysWithValues: facts.registers.map { ("\($0.table) \($0.address)", $0) })
        let ours = Dictionary(model.registers.map { ("\(Self.table($0.registerType)) \($0.address)", $0) }, uniquingKeysWith: { a, _ in a })
        #expect(ours.count == model.registers.count, "one register per address")
        var compared = 0
        for r in model.registers {
            guard let f = library["\(Self.table(r.registerType)) \(r.address)"] else {
                Issue.record("\(r.name) at \(Self.table(r.registerType)) \(r.address): not in s1155_s1255.json")
                continue
            }
            let at = "\(r.name) (\(f.number ?? 0))"
            #expect(Self.readFunction(r) == f.read_function, "\(at): read FC")
            #expect(Self.writeFunction(r) == f.write_function, "\(at): write FC")
            #expect(r.count == f.words, "\(at): width")
            #expect(Self.signed(r.dataType) == f.signed, "\(at): signedness")
            let scale = f.scale * (f.unit.flatMap { Self.unitFactor[$0] } ?? 1)
            #expect(abs(r.scale - scale) < 1e-12, "\(at): scale \(r.scale) vs \(scale)")
            if f.words == 2 {
                #expect(Self.order(r.byteOrder) == f.word_order, "\(at): read word order")
                if f.writable { #expect(r.writeByteOrder.map(Self.order) == f.write_word_order, "\(at): write word order") }
            }
            #expect((r.access != .read) == f.writable, "\(at): writable")
            if let min = f.min, let max = f.max, r.access != .read {
                #expect(r.min == min && r.max == max, "\(at): range \(String(describing: r.min))...\(String(describing: r.max)) vs \(min)...\(max)")
            }
            if let limit = f.unavailable_limit, !r.isBitmap { #expect(r.unavailable.contains(limit), "\(at): \(limit) means no value") }
            #expect(Set(f.enum_keys).isSubset(of: r.enumValues.keys.map { Int($0) }), "\(at): enum keys")
            // A parameter without a documented range still has one: its type's.
            if r.access != .read { #expect(r.min != nil && r.max != nil, "\(at): writable without a range") }
            compared += 1
        }
        for f in facts.registers where ours["\(f.table) \(f.address)"] == nil && Self.nibeLeftOut[f.number ?? 0] == nil {
            Issue.record("library register \(f.number ?? 0) (\(f.table) \(f.address)) is not mapped")
        }
        #expect(compared == model.registers.count && compared == facts.registers.count - Self.nibeLeftOut.count, "\(compared) of \(facts.registers.count)")
        // The registers the issue names: priority, BT50, calculated supply, additional heater power,
        // heating curve, operating mode, hot-water start/stop, SG Ready, energy log.
        let numbers = Set(model.registers.compactMap { r in library["\(Self.table(r.registerType)) \(r.address)"]?.number })
        for number in [31029, 30117, 31018, 31028, 40027, 40238, 40060, 40064, 31912, 43033, 46009, 32284, 32306, 33822, 33824] {
            #expect(numbers.contains(number), "\(number) mapped")
        }
    }
}
