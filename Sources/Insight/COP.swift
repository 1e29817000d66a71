/// Coefficient of performance: heat delivered ÷ electricity used, from what a model exports.
public enum COP {
    /// Below this electrical input (kW) a COP is not meaningful (standby, defrost pauses).
    public static let minimumElectricalKW = 0.05

    /// Thermal ÷ electrical power; nil when either is not finite, the heat is negative, or the
    /// electrical input is below `minimumElectricalKW`.
    public static func instantaneous(thermalKW: Double, electricalKW: Double) -> Double? {
        guard thermalKW.isFinite, electricalKW.isFinite, thermalKW >= 0, electricalKW >= minimumElectricalKW else { return nil }
        return thermalKW / electricalKW
    }

    /// Thermal power in kW from the volume flow (l/min) and the supply/return temperatures:
    /// Q = V̇ · ρ(T̄) · c_p(T̄) · (T_supply − T_return), at the mean temperature T̄.
    /// nil when an input is not finite or the flow is negative.
    public static func thermalPower(flowLitresPerMinute flow: Double, supplyCelsius supply: Double, returnCelsius ret: Double,
                                    fluid: HeatTransferFluid = .water) -> Double? {
        guard flow.isFinite, supply.isFinite, ret.isFinite, flow >= 0 else { return nil }
        let mean = (supply + ret) / 2
        let massFlow = flow / 60 * fluid.density(celsius: mean)  // kg/s
        return massFlow * fluid.specificHeat(celsius: mean) * (supply - ret)  // kJ/s = kW
    }

    /// COP from the flow and ΔT when the model has no thermal power register.
    public static func fromFlow(flowLitresPerMinute flow: Double, supplyCelsius supply: Double, returnCelsius ret: Double,
                                electricalKW: Double, fluid: HeatTransferFluid = .water) -> Double? {
        guard let thermal = thermalPower(flowLitresPerMinute: flow, supplyCelsius: supply, returnCelsius: ret, fluid: fluid) else { return nil }
        return instantaneous(thermalKW: thermal, electricalKW: electricalKW)
    }
}
