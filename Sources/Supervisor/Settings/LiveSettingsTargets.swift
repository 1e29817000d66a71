import Sinks

/// The running parts a live settings change reaches besides the fleet: the Influx sink (absent when
/// collector.yml turns InfluxDB off; then its keys are not live) and the alert monitor.
public struct LiveSettingsTargets: Sendable {
    public var influx: InfluxSink?
    public var alerts: AlertMonitor?

    public init(influx: InfluxSink? = nil, alerts: AlertMonitor? = nil) {
        self.influx = influx
        self.alerts = alerts
    }
}
