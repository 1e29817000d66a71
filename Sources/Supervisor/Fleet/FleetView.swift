import HPCore

/// What the fleet's command loop last committed, published for readers (list, status, models) so
/// a read never waits behind a slow change.
public struct FleetView: Sendable {
    /// heatpumps.yml (with overrides) plus the runtime devices that load.
    public var configuration: Configuration
    public var runtimeIDs: Set<String> = []
    public var unloadable: [String: UnloadableDevice] = [:]

    public func source(of id: String) -> String {
        runtimeIDs.contains(id) || unloadable[id] != nil ? "runtime" : "heatpumps.yml"
    }
}
