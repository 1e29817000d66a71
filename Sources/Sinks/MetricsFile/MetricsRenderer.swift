/// Appends exposition-format lines to a byte buffer. With a `spill`, the buffer is handed over
/// and emptied whenever it holds `chunk` bytes (a rewrite streams into the file in cache-sized
/// pieces); without one it grows to hold the whole text.
struct MetricsRenderer {
    var out: [UInt8] = []
    /// Receives each full chunk; the first error stops spilling and is kept in `failure`.
    let spill: ((UnsafeRawBufferPointer) throws -> Void)?
    private(set) var failure: (any Error)?
    /// 256 KiB: fits in L2 while it is rendered and then copied into the page cache.
    static let chunk = 256 * 1024

    init(spill: ((UnsafeRawBufferPointer) throws -> Void)? = nil) {
        self.spill = spill
        if spill != nil { out.reserveCapacity(Self.chunk + 64 * 1024) }
    }

    /// Hands what is buffered to `spill` (all of it, however little) and empties the buffer.
    mutating func drain() {
        guard let spill, !out.isEmpty else { return }
        if failure == nil {
            do { try out.withUnsafeBytes(spill) } catch { failure = error }
        }
        out.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private mutating func spillIfFull() {
        if spill != nil, out.count >= Self.chunk { drain() }
    }

    mutating func header(_ name: String, _ help: String, _ kind: MetricFamily.Kind) {
        out.append(contentsOf: "# HELP ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: PrometheusText.escapeHelp(help).utf8)
        out.append(contentsOf: "\n# TYPE ".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: kind.rawValue.utf8)
        out.append(UInt8(ascii: "\n"))
        spillIfFull()
    }

    /// Text as it is (the daemon-level families at the end of the file).
    mutating func raw(_ text: String) {
        out.append(contentsOf: text.utf8)
        spillIfFull()
    }

    /// `name{labels[,extra]} value`, formatted straight into the buffer (the less frequent lines:
    /// text, enum state and template-instance series).
    mutating func line(_ name: String, _ labels: UnsafeBufferPointer<UInt8>, _ extra: String?, _ value: Double) {
        let name = Array(name.utf8)
        let extra = extra.map { Array($0.utf8) }
        name.withUnsafeBufferPointer { name in
            if let extra {
                extra.withUnsafeBufferPointer { line(name, labels, $0, value) }
            } else {
                line(name, labels, nil, value)
            }
        }
    }

    /// The same from bytes the caller holds: the hot loops take the name and extra label once per
    /// family and the labels from `RowColumns`, so a line touches no reference count.
    mutating func line(_ name: UnsafeBufferPointer<UInt8>, _ labels: UnsafeBufferPointer<UInt8>, _ extra: UnsafeBufferPointer<UInt8>?, _ value: Double) {
        out.append(contentsOf: name)
        out.append(UInt8(ascii: "{"))
        out.append(contentsOf: labels)
        if let extra {
            out.append(UInt8(ascii: ","))
            out.append(contentsOf: extra)
        }
        out.append(UInt8(ascii: "}"))
        out.append(UInt8(ascii: " "))
        if value.isFinite {
            ByteText.append(value, to: &out)
        } else {
            out.append(contentsOf: PrometheusText.format(value).utf8)
        }
        out.append(UInt8(ascii: "\n"))
        spillIfFull()
    }
}
