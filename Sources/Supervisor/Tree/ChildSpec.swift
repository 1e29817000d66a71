/// How to run one supervised child.
public struct ChildSpec: Sendable {
    public var id: String
    public var restart: RestartType
    public var start: @Sendable () async throws -> Void

    public init(id: String, restart: RestartType = .permanent, start: @escaping @Sendable () async throws -> Void) {
        self.id = id
        self.restart = restart
        self.start = start
    }
}

/// What happened to a child, for logging, metrics and status.
public enum ChildEvent: Sendable {
    case restarting(id: String, error: String, delay: Duration, restarts: Int)
    case failed(id: String, error: String, cooldown: Duration)
    case exited(id: String)
}
