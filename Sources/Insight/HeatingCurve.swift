import HPCore

/// The formulas of the comfort metrics: a declared heating curve's target, the supply's deviation
/// and shortfall, hot water below its setpoint. Pure functions; `ComfortTracker` integrates them.
public enum HeatingCurve {
    /// The supply the curve asks for at `outdoor` °C: linear between the two points around it,
    /// the end point's supply beyond either end (controllers clamp their curves the same way).
    /// `points` are in rising outdoor temperature (the parser checks it); nil for fewer than one.
    public static func target(outdoor: Double, points: [CurvePoint]) -> Double? {
        guard let first = points.first, let last = points.last, outdoor.isFinite else { return nil }
        if outdoor <= first.outdoor { return first.supply }
        if outdoor >= last.outdoor { return last.supply }
        for (a, b) in zip(points, points.dropFirst()) where outdoor <= b.outdoor {
            let span = b.outdoor - a.outdoor
            guard span > 0 else { return b.supply }
            return a.supply + (b.supply - a.supply) * (outdoor - a.outdoor) / span
        }
        return last.supply
    }

    /// Kelvin by which the supply falls short of its target (0 when at or above it).
    public static func deficit(supply: Double, target: Double) -> Double {
        max(0, target - supply)
    }

    /// Whether the hot water is below its setpoint by more than `margin` kelvin.
    public static func dhwBelow(temperature: Double, setpoint: Double, margin: Double) -> Bool {
        temperature < setpoint - max(0, margin)
    }
}
