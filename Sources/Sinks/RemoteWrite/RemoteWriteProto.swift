/// Hand-written protobuf wire encoding of the few `prometheus.WriteRequest` fields the sink sends,
/// byte for byte what swift-protobuf writes for the same message (proto3: empty strings, a +0.0
/// value and a zero timestamp are left out; `RemoteWriteEncodingTests` compares the two on random
/// input). Fields: WriteRequest.timeseries = 1; TimeSeries.labels = 1, samples = 2;
/// Label.name = 1, value = 2; Sample.value = 1 (double), timestamp = 2 (int64).
enum RemoteWriteProto {
    static let nameLabel = "__name__"

    /// Tag of a length-delimited field 1 / field 2.
    static let field1Bytes: UInt8 = 0x0A
    static let field2Bytes: UInt8 = 0x12

    static func varintSize(_ value: UInt64) -> Int {
        var v = value
        var n = 1
        while v >= 0x80 {
            v >>= 7
            n += 1
        }
        return n
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: v))
    }

    /// Size of a string field (tag, length, bytes); 0 for an empty string, which proto3 leaves out.
    static func stringFieldSize(_ count: Int) -> Int { count == 0 ? 0 : 1 + varintSize(UInt64(count)) + count }

    static func appendStringField(_ tag: UInt8, _ text: String, to out: inout [UInt8]) {
        let count = text.utf8.count
        guard count > 0 else { return }
        out.append(tag)
        appendVarint(UInt64(count), to: &out)
        out.append(contentsOf: text.utf8)
    }

    /// One `TimeSeries.labels` entry.
    static func appendLabel(name: String, value: String, to out: inout [UInt8]) {
        let size = stringFieldSize(name.utf8.count) + stringFieldSize(value.utf8.count)
        out.append(field1Bytes)
        appendVarint(UInt64(size), to: &out)
        appendStringField(field1Bytes, name, to: &out)
        appendStringField(field2Bytes, value, to: &out)
    }

    /// Size of the `__name__` label entry for a metric name.
    static func nameLabelSize(_ name: String) -> Int {
        let size = stringFieldSize(nameLabel.utf8.count) + stringFieldSize(name.utf8.count)
        return 1 + varintSize(UInt64(size)) + size
    }

    /// Size of one `Sample` message's content.
    static func sampleSize(value: Double, timestamp: Int64) -> Int {
        (value.bitPattern != 0 ? 9 : 0) + (timestamp != 0 ? 1 + varintSize(UInt64(bitPattern: timestamp)) : 0)
    }

    /// One `TimeSeries.samples` entry.
    static func appendSample(value: Double, timestamp: Int64, to out: inout [UInt8]) {
        out.append(field2Bytes)
        appendVarint(UInt64(sampleSize(value: value, timestamp: timestamp)), to: &out)
        if value.bitPattern != 0 {
            out.append(0x09)  // field 1, 64-bit
            var bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
        }
        if timestamp != 0 {
            out.append(0x10)  // field 2, varint
            appendVarint(UInt64(bitPattern: timestamp), to: &out)
        }
    }
}
