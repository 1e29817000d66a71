import HPCore
import Synchronization

/// Each device's remote-write label set (site and device labels, sorted and encoded), made on its
/// first poll and reused while its labels stay the same: a poll's samples then cost no sorting or
/// label encoding. One entry per device that publishes; `remove` drops a removed device's.
final class RemoteWriteLabelCache: Sendable {
    private struct Entry {
        var device: DeviceLabels
        var set: RemoteWriteLabelSet
    }

    let site: [SeriesLabel]
    private let entries = Mutex<[String: Entry]>([:])

    init(site: [SeriesLabel]) { self.site = site }

    /// The label set of a device's series without template instance labels.
    func labels(_ device: DeviceLabels) -> RemoteWriteLabelSet {
        if let hit = entries.withLock({ $0[device.id] }), hit.device == device { return hit.set }
        let set = RemoteWriteLabelSet(Self.deviceLabels(device, site: site))
        entries.withLock { $0[device.id] = Entry(device: device, set: set) }
        return set
    }

    func remove(_ id: String) { _ = entries.withLock { $0.removeValue(forKey: id) } }

    var count: Int { entries.withLock { $0.count } }

    /// Site labels, then the device's (an empty value is an absent label).
    static func deviceLabels(_ device: DeviceLabels, site: [SeriesLabel]) -> [SeriesLabel] {
        var labels = site
        for (key, value) in [("heatpump_id", device.id), ("location", device.location), ("manufacturer", device.manufacturer),
                             ("model", device.model), ("name", device.name)] where !value.isEmpty {
            labels.append(SeriesLabel(name: key, value: value))
        }
        return labels
    }
}
