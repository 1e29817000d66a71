/// Where devices and the supervisor send what they observe. Implementations never block the caller.
public protocol TelemetrySink: Sendable {
    /// A poll finished (successfully or not).
    func publish(_ report: PollReport)
    /// A device's status changed outside a poll (restarting, failed, stopped) or it was (re)started.
    func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus)
    /// A device was removed or disabled: forget its series.
    func deviceRemoved(_ id: String)
}

/// Sends everything to several sinks.
public struct TelemetryFanout: TelemetrySink {
    public var sinks: [any TelemetrySink]

    public init(_ sinks: [any TelemetrySink]) { self.sinks = sinks }

    public func publish(_ report: PollReport) {
        for sink in sinks { sink.publish(report) }
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {
        for sink in sinks { sink.deviceStatusChanged(device, status) }
    }

    public func deviceRemoved(_ id: String) {
        for sink in sinks { sink.deviceRemoved(id) }
    }
}
