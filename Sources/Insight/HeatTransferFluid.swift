/// The heat-transfer fluid of a circuit: water, or water with propylene or ethylene glycol.
///
/// Specific heat and density follow the usual engineering tables (water: IAPWS-95 values at
/// atmospheric pressure, fitted over 0-90 °C within 0.02 %; glycol mixtures: linear in the mass
/// fraction between water and the ASHRAE Handbook Fundamentals values at 20 °C, which is within
/// about 2 % over 0-60 °C for fractions up to 50 %). See docs/derived-metrics.md.
public struct HeatTransferFluid: Sendable, Hashable {
    public enum Glycol: String, Sendable, Hashable {
        case propylene, ethylene
    }

    public var glycol: Glycol?
    /// Mass fraction of glycol, 0-0.6.
    public var fraction: Double

    public static let water = HeatTransferFluid(glycol: nil, fraction: 0)

    public init(glycol: Glycol?, fraction: Double) {
        self.glycol = glycol
        self.fraction = glycol == nil ? 0 : min(max(fraction, 0), 0.6)
    }

    /// Specific heat capacity in kJ/(kg·K) at `celsius`.
    public func specificHeat(celsius: Double) -> Double {
        let t = min(max(celsius, 0), 90)
        // Water: IAPWS-95 at 0.1 MPa, 0-90 °C, fitted by a quartic (max error 0.02 %).
        let water = 4.219592 + t * (-3.040491e-3 + t * (7.903438e-5 + t * (-8.472416e-7 + t * 3.613054e-9)))
        guard let glycol else { return water }
        // Pure glycol at 20 °C (ASHRAE): propylene glycol 2.50, ethylene glycol 2.38 kJ/(kg·K).
        let pure = glycol == .propylene ? 2.50 : 2.38
        return water + (pure - water) * fraction
    }

    /// Density in kg/l at `celsius`.
    public func density(celsius: Double) -> Double {
        let t = min(max(celsius, 0), 90)
        // Water: IAPWS-95 at 0.1 MPa, 0-90 °C, fitted by a cubic (max error 0.01 %).
        let water = 0.9999154 + t * (2.853516e-5 + t * (-6.202972e-6 + t * 1.806915e-8))
        guard let glycol else { return water }
        let pure = glycol == .propylene ? 1.036 : 1.113
        return water + (pure - water) * fraction
    }
}
