/// Where a register expanded from a template sits: the series it shares with the other instances
/// (`circuit_flow_temp`) and the labels that tell them apart (`circuit="A"`).
///
/// A class so samples carry it as one reference (samples are copied on every poll); immutable,
/// hence `Sendable` without locks.
public final class SeriesInstance: Sendable, Hashable, CustomStringConvertible {
    /// Metric name suffix (`heatpump_<series>`) and InfluxDB field key of every instance.
    public let series: String
    /// Outermost first: `zone="0"`, then `room="1"`.
    public let labels: [SeriesLabel]

    public init(series: String, labels: [SeriesLabel]) {
        self.series = series
        self.labels = labels
    }

    public static func == (a: SeriesInstance, b: SeriesInstance) -> Bool {
        a === b || (a.series == b.series && a.labels == b.labels)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(series)
        hasher.combine(labels)
    }

    public var description: String {
        series + "{" + labels.map { "\($0.name)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }
}

/// One label of a template instance, e.g. `circuit="A"`.
public struct SeriesLabel: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
