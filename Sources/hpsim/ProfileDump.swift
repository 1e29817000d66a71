/// JSON description of a profile's points, so tests compare against the simulator's own table.
enum ProfileDump {
    static func points(_ profile: SimProfile) -> [[String: Any]] {
        profile.points.map { p in
            let raw = p.raw(SimPhysics(seed: 0).value(p.dynamics, at: 0))
            let value: String
            switch p.type {
            case .float16: value = "\(Float(Float16(raw.real)))"
            case .float32: value = "\(Float(raw.real))"
            case .float64: value = "\(raw.real)"
            case .uint64: value = "\(raw.unsigned)"
            case .uint8: value = "\(UInt8(clamping: raw.integer))"
            case .int8: value = "\(Int8(clamping: raw.integer))"
            case .uint16: value = "\(UInt16(truncatingIfNeeded: raw.integer))"
            case .uint32: value = "\(UInt32(truncatingIfNeeded: raw.integer))"
            case .string:
                // What a reader should see: the stored text without its padding (NULs, trailing spaces).
                let text = String(decoding: raw.text.prefix(2 * p.length), as: UTF8.self)
                value = String(text.reversed().drop { $0 == " " || $0 == "\u{0}" }.reversed())
            default: value = "\(raw.integer)"
            }
            return [
                "name": p.name, "table": p.table.rawValue, "address": p.address, "type": p.type.rawValue,
                "order": p.order.rawValue, "scale": p.scale, "length": p.length, "constant": p.dynamics.isConstant,
                "words": p.table == .coil || p.table == .discrete ? [raw.integer != 0 ? 1 : 0] : SimEncoder.words(raw, type: p.type, order: p.order, length: p.length).map(Int.init),
                "value": value,
            ]
        }
    }
}
