/// The learnt state as bytes, for the store (`anomaly_models`): baselines per register and band,
/// how often each register changes, and when learning began. Transient state (a running defrost,
/// recent compressor cycles, repeats in a row, the alert) starts afresh.
///
/// Layout, little-endian: "HPMA", version (UInt16), fingerprint of the watched registers and band
/// kind (UInt64, FNV-1a), registers R and bands B (UInt32 each), first poll (Float64), then Float32
/// arrays: centres, spreads, counts (R × B each), change shares, polls seen and longest usual runs (R each).
extension AnomalyDetector {
    public struct StateError: Error, CustomStringConvertible {
        public var description: String
    }

    static let magic: [UInt8] = Array("HPMA".utf8)
    static let version: UInt16 = 1

    /// FNV-1a over the watched registers and the band kind: a state learnt for other registers is refused.
    var fingerprint: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        for name in names {
            for byte in name.utf8 { mix(byte) }
            mix(0)
        }
        mix(byOutdoor ? 1 : 2)
        return hash
    }

    public func encodedState() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(30 + 4 * (3 * baseline.center.count + 3 * names.count))
        out += Self.magic
        append(Self.version, to: &out)
        append(fingerprint, to: &out)
        append(UInt32(names.count), to: &out)
        append(UInt32(baseline.bands), to: &out)
        append((firstSeen ?? .nan).bitPattern, to: &out)
        for array in [baseline.center, baseline.spread, baseline.count, stuck.changeShare, stuck.seen, stuck.longest] {
            for v in array { append(v.bitPattern, to: &out) }
        }
        return out
    }

    /// Restores a state from `encodedState`; throws (leaving the detector as it was) when the bytes
    /// are truncated, of another version, learnt for other registers, or hold impossible values.
    public mutating func restore(_ bytes: [UInt8]) throws(StateError) {
        var reader = ByteReader(bytes: bytes)
        guard reader.take(4) == Self.magic else { throw StateError(description: "not an anomaly model (bad magic)") }
        guard let version: UInt16 = reader.read(), version == Self.version else { throw StateError(description: "unknown version") }
        guard let stamp: UInt64 = reader.read(), stamp == fingerprint else {
            throw StateError(description: "learnt for other registers or bands")
        }
        guard let r: UInt32 = reader.read(), let b: UInt32 = reader.read(), Int(r) == names.count, Int(b) == baseline.bands else {
            throw StateError(description: "register or band count differs")
        }
        guard let first: UInt64 = reader.read() else { throw StateError(description: "truncated") }
        let cells = names.count * baseline.bands
        var arrays: [[Float]] = []
        for length in [cells, cells, cells, names.count, names.count, names.count] {
            var a = [Float](repeating: 0, count: length)
            for i in 0..<length {
                guard let bits: UInt32 = reader.read() else { throw StateError(description: "truncated") }
                let v = Float(bitPattern: bits)
                guard v.isFinite else { throw StateError(description: "non-finite value") }
                a[i] = v
            }
            arrays.append(a)
        }
        guard reader.atEnd else { throw StateError(description: "trailing bytes") }
        guard arrays[1].allSatisfy({ $0 >= 0 }), arrays[2].allSatisfy({ $0 >= 0 }), arrays[3].allSatisfy({ (0...1).contains($0) }),
              arrays[4].allSatisfy({ $0 >= 0 }), arrays[5].allSatisfy({ $0 >= 0 }) else { throw StateError(description: "value out of range") }
        baseline.center = arrays[0]
        baseline.spread = arrays[1]
        baseline.count = arrays[2]
        stuck.changeShare = arrays[3]
        stuck.seen = arrays[4]
        stuck.longest = arrays[5]
        let firstTime = Double(bitPattern: first)
        firstSeen = firstTime.isFinite ? firstTime : nil
    }

    private func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }
}

/// Reads little-endian integers from bytes, nil past the end.
struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    var atEnd: Bool { offset == bytes.count }

    mutating func take(_ n: Int) -> [UInt8]? {
        guard n >= 0, bytes.count - offset >= n else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<(offset + n)])
    }

    mutating func read<T: FixedWidthInteger>() -> T? {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { return nil }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
        offset += size
        return value
    }
}
