import Synchronization

/// Reads spool lines back into samples (`RemoteWriteSample.init?(line:)`), reusing the label set of
/// a label text it has read before. A spooled backlog holds each series' labels once per sample; a
/// fleet has a few label sets per device, so after the first line of a series the labels cost one
/// dictionary lookup instead of being unescaped, sorted, encoded and hashed again. Bounded: beyond
/// `maxSets` the cache starts afresh.
final class RemoteWriteLineReader: Sendable {
    static let maxSets = 100_000
    private let sets = Mutex<[String: RemoteWriteLabelSet]>([:])

    func sample(_ line: Substring) -> RemoteWriteSample? {
        let bytes = Array(line.utf8)
        guard let open = bytes.firstIndex(of: UInt8(ascii: "{")), open > 0, let close = Self.closingBrace(bytes, after: open) else {
            return RemoteWriteSample(line: bytes)
        }
        let text = String(decoding: bytes[(open + 1)..<close], as: UTF8.self)
        guard let series = sets.withLock({ $0[text] }) else {
            // First time: the full parse, whose label set (with this text) serves the next lines.
            guard let sample = RemoteWriteSample(line: bytes) else { return nil }
            guard sample.series.text == text else { return sample }  // not a line `line` wrote: not a key to trust
            sets.withLock {
                if $0.count >= Self.maxSets { $0.removeAll(keepingCapacity: true) }
                $0[text] = sample.series
            }
            return sample
        }
        // A known label text parses as it did the first time; the rest of the line as the full parse reads it.
        guard let (value, timestamp) = RemoteWriteSample.valueAndTimestamp(bytes[(close + 1)...]) else { return nil }
        return RemoteWriteSample(name: String(decoding: bytes[..<open], as: UTF8.self), series: series, value: value, timestamp: timestamp)
    }

    /// The `}` that ends the label text, outside quoted values (where `\` escapes the next byte).
    static func closingBrace(_ bytes: [UInt8], after open: Int) -> Int? {
        var quoted = false
        var i = open + 1
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\\") where quoted: i += 1
            case UInt8(ascii: "\""): quoted.toggle()
            case UInt8(ascii: "}") where !quoted: return i
            default: break
            }
            i += 1
        }
        return nil
    }
}
