import HPCore

/// A write that arrived on `<prefix>/<site>/<id>/<register>/set`, handed to the daemon's one typed
/// write operation (the control socket's: validation, EEPROM budget, read-back, audit).
public struct MQTTWrite: Sendable, Hashable {
    public var heatpumpID: String
    public var register: String
    public var value: String
}

/// What became of it: `written` with the operation's outcome, or `refused` with its error code and message.
public enum MQTTWriteResult: Sendable, Hashable {
    case written(outcome: String)
    case refused(code: String, message: String)
}

/// The daemon's write operation as the sink calls it.
public typealias MQTTWriteHandler = @Sendable (MQTTWrite) async -> MQTTWriteResult
/// The registers a running device publishes (its model with template instances expanded); nil when unknown.
public typealias MQTTRegisterCatalog = @Sendable (String) async -> [RegisterDefinition]?
