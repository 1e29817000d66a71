/// Everything in `collector.yml`.
public struct CollectorConfig: Sendable, Hashable {
    public var collector = CollectorSettings()
    public var influxdb = InfluxSettings()
    public var logging = LoggingSettings()
    public var metricsFile = MetricsFileSettings()
    public var sqlite = SQLiteSettings()
    public var controlSocket = ControlSocketSettings()
    public var http = HTTPSettings()
    public var supervisor = SupervisorSettings()
    public var alerts: [AlertRule] = []
    public var writes = WriteSettings()
    public var site = SiteSettings()
    public var remoteWrite: [RemoteWriteSettings] = []
    public var mqtt = MQTTSettings()
    public var notify = NotifySettings()

    public init() {}
}
