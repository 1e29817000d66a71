/// A daemon-wide series (`hpmanager_*`) contributed by a sink to the metrics file.
public struct DaemonMetric: Sendable {
    public enum Kind: String, Sendable { case gauge, counter }

    public var name: String
    public var help: String
    public var kind: Kind
    public var labels: [(String, String)]
    public var value: Double

    public init(_ name: String, help: String, kind: Kind = .gauge, labels: [(String, String)] = [], value: Double) {
        self.name = name
        self.help = help
        self.kind = kind
        self.labels = labels
        self.value = value
    }
}

/// Anything that reports daemon-wide series (queue depths, spool sizes, alert states).
public protocol DaemonMetricsSource: Sendable {
    func daemonMetrics() -> [DaemonMetric]
}
