/// Comfort and heating-curve inputs of a model (`derived: comfort:`): the supply temperature against
/// the heating curve's target, the hot-water tank against its setpoint, and the controller's own
/// degree-minutes where it has them (NIBE).
///
/// Not part of the derived-state fingerprint (see `DerivedInputs.CodingKeys`): adding or tuning
/// comfort must not reset a device's compressor and SCOP counters. Its own counters are restored
/// whenever they were saved.
public struct ComfortInputs: Sendable, Hashable {
    public var supply: SupplyCurveInputs?
    public var dhw: DHWComfortInputs?
    /// The controller's degree-minutes register (NIBE's 40019 "degree minutes"), exported as `heatpump_degree_minute_balance`.
    public var degreeMinutes: DerivedInput?

    public init(supply: SupplyCurveInputs? = nil, dhw: DHWComfortInputs? = nil, degreeMinutes: DerivedInput? = nil) {
        self.supply = supply
        self.dhw = dhw
        self.degreeMinutes = degreeMinutes
    }

    public var inputs: [DerivedInput] {
        var all: [DerivedInput] = []
        if let supply {
            all.append(supply.temp)
            switch supply.target {
            case .register(let r): all.append(r)
            case .curve(let outdoor, _): all.append(outdoor)
            }
            if let heating = supply.heating { all.append(heating.register) }
        }
        if let dhw {
            all.append(dhw.temp)
            if case .register(let r) = dhw.setpoint { all.append(r) }
        }
        if let degreeMinutes { all.append(degreeMinutes) }
        return all
    }
}

/// The temperature the heating curve controls (the supply; Luxtronik's return) and its target: the
/// controller's calculated setpoint, or a curve of (outdoor, target) points declared in the model.
public struct SupplyCurveInputs: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// The controller's own target (NIBE 31018 "calculated supply", IDM 1378 "flow setpoint").
        case register(DerivedInput)
        /// Target from the outdoor temperature: linear between the points (outdoor ascending), flat beyond.
        case curve(outdoor: DerivedInput, points: [CurvePoint])
    }

    public var temp: DerivedInput
    public var target: Target
    /// Only while this says the heat pump heats (a priority or mode register); nil: always.
    public var heating: DerivedCondition?

    public init(temp: DerivedInput, target: Target, heating: DerivedCondition? = nil) {
        self.temp = temp
        self.target = target
        self.heating = heating
    }
}

/// One point of a declared heating curve: at `outdoor` °C the supply should be `supply` °C.
public struct CurvePoint: Sendable, Hashable {
    public var outdoor: Double
    public var supply: Double

    public init(outdoor: Double, supply: Double) {
        self.outdoor = outdoor
        self.supply = supply
    }
}

/// A register that holds one of `values` (raw numbers) when a condition is true; any non-zero value when `values` is empty.
public struct DerivedCondition: Sendable, Hashable {
    public var register: DerivedInput
    public var values: [Double]

    public init(register: DerivedInput, values: [Double] = []) {
        self.register = register
        self.values = values
    }

    public func holds(_ value: Double) -> Bool {
        values.isEmpty ? value != 0 : values.contains(value)
    }
}

/// The hot-water temperature and the setpoint it should not fall below (a register or a fixed
/// temperature), with a margin that still counts as comfortable.
public struct DHWComfortInputs: Sendable, Hashable {
    public enum Setpoint: Sendable, Hashable {
        case register(DerivedInput)
        case fixed(Double)
    }

    public var temp: DerivedInput
    public var setpoint: Setpoint
    /// Kelvin below the setpoint that is not yet "below" (0: any shortfall counts).
    public var margin: Double

    public init(temp: DerivedInput, setpoint: Setpoint, margin: Double = 0) {
        self.temp = temp
        self.setpoint = setpoint
        self.margin = margin
    }
}
