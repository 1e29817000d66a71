/// One register write of an operation: a register of the model and the value, as `write` takes it.
public struct OperationWrite: Sendable, Hashable {
    public var register: String
    public var value: String

    public init(register: String, value: String) {
        self.register = register
        self.value = value
    }
}
