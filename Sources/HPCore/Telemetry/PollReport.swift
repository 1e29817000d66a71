/// What one poll of one device produced: values (empty when the poll failed) and the device's status.
public struct PollReport: Sendable {
    public var device: DeviceLabels
    /// Wall-clock seconds since 1970 when the poll started (the reading's timestamp).
    public var timestamp: Double
    public var samples: [Sample]
    public var status: DeviceStatus
    /// The anomaly detector's verdict on this poll, when the model declares `derived: anomaly:`.
    public var anomaly: AnomalyVerdict?

    public init(device: DeviceLabels, timestamp: Double, samples: [Sample], status: DeviceStatus, anomaly: AnomalyVerdict? = nil) {
        self.device = device
        self.timestamp = timestamp
        self.samples = samples
        self.status = status
        self.anomaly = anomaly
    }
}
