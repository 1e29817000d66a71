import HPCore

/// A device's samples as the metrics rewrite's fast path needs them: every value as a number, and
/// whether that is all there is to write (no text, enum label, bitmap bits or template labels).
/// Computed once per poll when the samples are stored, so a rewrite copies no `Sample` for the
/// usual all-numbers device.
struct SampleSummary: Sendable {
    var numbers: [Double]
    var plain: Bool

    /// No samples (a device that is down).
    static let empty = SampleSummary([])

    init(_ samples: [Sample]) {
        numbers = samples.map(\.value.doubleValue)
        plain = samples.allSatisfy { !$0.value.isText && $0.label == nil && $0.bits.isEmpty && $0.instance == nil }
    }
}
