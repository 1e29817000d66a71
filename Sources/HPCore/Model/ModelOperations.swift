/// Vendor-neutral operations a model maps onto its registers (`operations:` in a model): SG Ready
/// and PV surplus, so `hpmanagerctl sg-ready ID boost` means the same on every vendor that has it.
public struct ModelOperations: Sendable, Hashable {
    public var sgReady: SGReadyOperation?
    public var pvSurplus: PVSurplusOperation?

    public init(sgReady: SGReadyOperation? = nil, pvSurplus: PVSurplusOperation? = nil) {
        self.sgReady = sgReady
        self.pvSurplus = pvSurplus
    }

    public var isEmpty: Bool { sgReady == nil && pvSurplus == nil }
}

/// The four SG Ready states (BWP label): 1 lock (utility block, `off`), 2 normal, 3 recommend (switch-on
/// recommendation), 4 boost (forced on). Vendors with three states leave out `recommend`.
public enum SGReadyState: String, Sendable, Hashable, CaseIterable {
    case lock
    case normal
    case recommend
    case boost

    /// Accepts `off` for `lock` (what most users call a utility block).
    public init?(name: String) {
        let lower = name.lowercased()
        if lower == "off" { self = .lock } else if let state = SGReadyState(rawValue: lower) { self = state } else { return nil }
    }
}

/// One register write of an operation: a register of the model and the value, as `write` takes it.
public struct OperationWrite: Sendable, Hashable {
    public var register: String
    public var value: String

    public init(register: String, value: String) {
        self.register = register
        self.value = value
    }
}

/// `sg_ready: {prepare: [{register, value}], register, states: {lock: 0, normal: 1, …}}`: the
/// `prepare` writes go first (NIBE: enable SG Ready over Modbus), then `register := states[state]`.
public struct SGReadyOperation: Sendable, Hashable {
    public var prepare: [OperationWrite]
    public var register: String
    public var states: [SGReadyState: String]

    public init(prepare: [OperationWrite] = [], register: String, states: [SGReadyState: String]) {
        self.prepare = prepare
        self.register = register
        self.states = states
    }

    /// The states this vendor supports, in SG Ready order.
    public var supported: [SGReadyState] { SGReadyState.allCases.filter { states[$0] != nil } }
}

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
