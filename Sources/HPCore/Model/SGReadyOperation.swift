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
