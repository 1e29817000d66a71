import Sinks

/// The running parts a live settings change reaches besides the fleet: the Influx sink (absent when
/// collector.yml turns InfluxDB off; then its keys are not live), the alert monitor and the
/// notifier (a reload applies `notify:` to it).
public struct LiveSettingsTargets: Sendable {
    public var influx: InfluxSink?
    public var alerts: AlertMonitor?
    public var notifier: Notifier?

    public init(influx: InfluxSink? = nil, alerts: AlertMonitor? = nil, notifier: Notifier? = nil) {
        self.influx = influx
        self.alerts = alerts
        self.notifier = notifier
    }
}
