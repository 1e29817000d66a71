import HPCore

/// A stored runtime device that cannot run (damaged row, invalid spec, unknown model): shown as
/// `failed` with its error in `list`, `status` and the metrics file, never started, and still
/// removable or fixable with `update`.
public struct UnloadableDevice: Sendable, Hashable {
    public var labels: DeviceLabels
    public var enabled: Bool
    public var error: String

    public var id: String { labels.id }
}
