/// `pv_surplus: {register, production}`: the surplus in kW goes to `register`; an optional current
/// PV production (kW) to `production`.
public struct PVSurplusOperation: Sendable, Hashable {
    public var register: String
    public var production: String?

    public init(register: String, production: String? = nil) {
        self.register = register
        self.production = production
    }
}
