/// A scheduled job and its next firing.
public struct ScheduledJob: Sendable {
    public var job: WriteJob
    public var nextRun: Double?
}
