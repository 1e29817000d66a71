import DeviceActor

/// The difference between running and desired devices; computed purely, applied by `Fleet`.
public struct ConfigDiff: Sendable, Equatable {
    public var added: [String] = []
    public var removed: [String] = []
    public var changed: [String] = []
    public var unchanged: [String] = []

    public init() {}

    public static func compute(running: [String: DeviceRuntime], desired: [String: DeviceRuntime]) -> ConfigDiff {
        var diff = ConfigDiff()
        for id in desired.keys.sorted() {
            if let current = running[id] {
                if current == desired[id] { diff.unchanged.append(id) } else { diff.changed.append(id) }
            } else {
                diff.added.append(id)
            }
        }
        diff.removed = running.keys.filter { desired[$0] == nil }.sorted()
        return diff
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }
}
