import HPCore

/// What the fleet's command loop last committed, published for readers (list, status, models) so
/// a read never waits behind a slow change.
public struct FleetView: Sendable {
    /// heatpumps.yml (with overrides) plus the runtime devices that load.
    public var configuration: Configuration
    public var runtimeIDs: Set<String> = []
    public var unloadable: [String: UnloadableDevice] = [:]
    /// Settings changed live, over collector.yml (their values are already in `configuration.collector`).
    public var liveSettings = LiveSettings()
    /// The settings keys that can change live in this daemon.
    public var liveKeys: [String] = []

    public func source(of id: String) -> String {
        runtimeIDs.contains(id) || unloadable[id] != nil ? "runtime" : "heatpumps.yml"
    }
}
