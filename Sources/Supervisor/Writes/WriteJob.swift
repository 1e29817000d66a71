/// A scheduled write: `register := value` on `heatpumpID` at every firing of `schedule`.
public struct WriteJob: Sendable, Hashable {
    public var id: Int64
    public var heatpumpID: String
    public var register: String
    public var value: String
    public var schedule: JobSchedule
    public var client: String
    public var lastRun: Double?

    public init(id: Int64, heatpumpID: String, register: String, value: String, schedule: JobSchedule, client: String, lastRun: Double? = nil) {
        self.id = id
        self.heatpumpID = heatpumpID
        self.register = register
        self.value = value
        self.schedule = schedule
        self.client = client
        self.lastRun = lastRun
    }
}
