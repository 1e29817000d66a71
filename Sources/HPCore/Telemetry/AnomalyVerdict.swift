/// The anomaly detector's view of one poll: its score, whether it is alerting (threshold crossed
/// for long enough, after warm-up, with hysteresis) and, while it is, what it found, in words.
public struct AnomalyVerdict: Sendable, Hashable {
    /// 0 (usual) to 1.
    public var score: Double
    public var alerting: Bool
    /// The contributing registers and how far they are from their usual range, e.g.
    /// "flow_rate 8.1 l/min, usual 14.0–15.2 at 0–5 °C outdoor"; empty while not alerting.
    public var message: String

    public init(score: Double, alerting: Bool, message: String) {
        self.score = score
        self.alerting = alerting
        self.message = message
    }
}
