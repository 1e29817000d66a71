import HPCore

/// A poll's readings row: register name → value, with enum labels as `<name>_label`.
/// Hand-written: it runs for every poll; Foundation's JSONSerialization measured ~20× slower
/// (bench: sinks), and building it through `String` appends cost twice what the bytes cost.
public enum ReadingJSON {
    public static func encode(_ samples: [Sample]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(16 + samples.count * 28)
        out.append(UInt8(ascii: "{"))
        for (i, s) in samples.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            ByteText.appendJSONString(s.name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch s.value {
            case .int(let v): ByteText.append(v, to: &out)
            case .uint(let v): ByteText.append(v, to: &out)
            case .double(let v):
                if v.isFinite { ByteText.append(v, to: &out) } else { out.append(contentsOf: "null".utf8) }
            case .bool(let v): out.append(contentsOf: (v ? "true" : "false").utf8)
            case .string(let v): ByteText.appendJSONString(v, to: &out)
            }
            if let label = s.label {
                out.append(UInt8(ascii: ","))
                ByteText.appendJSONString(s.name + "_label", to: &out)
                out.append(UInt8(ascii: ":"))
                ByteText.appendJSONString(label, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}
