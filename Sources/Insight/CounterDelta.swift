/// The increase of a cumulative counter (energy kWh, compressor starts) between two readings,
/// robust against what real controllers do: resets to zero, wrap-around at the register's width,
/// and gaps in polling.
public enum CounterDelta {
    public enum Outcome: Sendable, Equatable {
        /// The counter grew by this much.
        case increase(Double)
        /// It went back: a reset (or a replaced controller); count from the new value.
        case reset(Double)
        /// The jump is implausible for the time that passed (a glitch, or another counter): ignored.
        case implausible
    }

    /// - Parameters:
    ///   - wrapAt: the counter's modulus (e.g. 2^32 × scale for a u32), when it wraps instead of resetting.
    ///   - maxRatePerHour: the largest plausible increase per hour (e.g. 50 kWh/h for a 50 kW pump).
    ///   - hours: time between the readings.
    public static func between(_ previous: Double, _ current: Double, hours: Double, wrapAt: Double? = nil,
                               maxRatePerHour: Double? = nil) -> Outcome {
        guard previous.isFinite, current.isFinite, hours.isFinite, hours >= 0 else { return .implausible }
        var delta = current - previous
        if delta < 0 {
            // A wrap lands just above zero from just below the modulus; anything else is a reset.
            if let wrapAt, wrapAt > 0, previous > wrapAt * 0.9, current < wrapAt * 0.1 {
                delta = wrapAt - previous + current
            } else {
                return .reset(max(current, 0))
            }
        }
        if let maxRatePerHour, delta > maxRatePerHour * max(hours, 1.0 / 60) { return .implausible }
        return .increase(delta)
    }
}
