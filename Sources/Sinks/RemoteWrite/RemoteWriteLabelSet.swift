import HPCore

/// The labels a poll's samples share — site and device, and a template instance's when there is
/// one — sorted by name (byte order, as receivers require), without `__name__`, with their
/// protobuf encoding made once: the `TimeSeries.labels` entries that sort before `__name__` and
/// those after it. A sample's series is then `before + __name__ + after`, appended as bytes
/// instead of built as a message per sample (`RemoteWriteEncoder`).
///
/// Immutable, so shared by every sample of a poll (and, through `RemoteWriteLabelCache`, by a
/// device's polls) across threads.
final class RemoteWriteLabelSet: Sendable {
    /// Sorted by name; no `__name__`.
    let labels: [SeriesLabel]
    /// Encoded `Label` entries (field 1 of `TimeSeries`) of the labels sorting before `__name__`.
    let before: [UInt8]
    /// … and of those after it.
    let after: [UInt8]
    /// Stable within the process: equal label sets hash alike (series grouping, shard choice).
    let hash: Int
    /// The labels as the spool line writes them, `a="x",b="y"` (escaped): made once per set, not per sample.
    let text: String

    /// - Parameter text: the labels' spool text when the caller has it (a parsed spool line); nil: made here.
    init(_ labels: [SeriesLabel], text: String? = nil) {
        var sorted = labels.filter { $0.name != RemoteWriteProto.nameLabel }
        sorted.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        self.labels = sorted
        var before: [UInt8] = []
        var after: [UInt8] = []
        for label in sorted {
            if label.name.utf8.lexicographicallyPrecedes(RemoteWriteProto.nameLabel.utf8) {
                RemoteWriteProto.appendLabel(name: label.name, value: label.value, to: &before)
            } else {
                RemoteWriteProto.appendLabel(name: label.name, value: label.value, to: &after)
            }
        }
        self.before = before
        self.after = after
        hash = sorted.hashValue
        self.text = text ?? sorted.map { $0.name + "=\"" + PrometheusText.escapeLabel($0.value) + "\"" }.joined(separator: ",")
    }

    func sameLabels(as other: RemoteWriteLabelSet) -> Bool { self === other || (hash == other.hash && labels == other.labels) }
}
