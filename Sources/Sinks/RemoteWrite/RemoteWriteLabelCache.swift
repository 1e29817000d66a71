import HPCore
import Synchronization

/// Each device's remote-write naming, made on its first poll and reused while it stays the same:
/// the device's label set (site and device labels, sorted and encoded) and, per sample position,
/// the metric name (`heatpump_` + the sanitized series name) and the label set of a template
/// instance. A poll's samples then cost no sorting, label encoding, name sanitizing or string
/// building; each position is checked against the poll's sample (the same `SeriesInstance`, an
/// equal series name, which is a pointer comparison when the model's string is reused) and
/// rebuilt only when it differs. One entry per device that publishes; `remove` drops a removed
/// device's.
final class RemoteWriteLabelCache: Sendable {
    /// One device's cache. Its positions have their own lock: a device's polls are published one
    /// at a time, so it is never contended, and devices never wait for each other's.
    final class Device: Sendable {
        struct Position {
            var seriesName: String
            var instance: SeriesInstance?
            var metric: String
            var series: RemoteWriteLabelSet
        }

        let labels: DeviceLabels
        let set: RemoteWriteLabelSet
        private let positions = Mutex<[Position]>([])

        init(labels: DeviceLabels, set: RemoteWriteLabelSet) {
            self.labels = labels
            self.set = set
        }

        /// Calls `body` with each numeric sample's metric name and label set, in order.
        func forEachSeries(_ samples: [Sample], _ body: (Sample, String, RemoteWriteLabelSet) -> Void) {
            positions.withLock { positions in
                for (i, sample) in samples.enumerated() where !sample.value.isText {
                    if i < positions.count, positions[i].instance === sample.instance, positions[i].seriesName == sample.seriesName {
                        body(sample, positions[i].metric, positions[i].series)
                        continue
                    }
                    let position = Position(seriesName: sample.seriesName, instance: sample.instance,
                                            metric: "heatpump_" + PrometheusText.sanitize(sample.seriesName),
                                            series: sample.instance.map { RemoteWriteLabelSet(set.labels + $0.labels.filter { !$0.value.isEmpty }) } ?? set)
                    // A position's names follow from its series name and instance alone, so a placeholder for the
                    // text positions before it is harmless: whatever sample matches it gets the right names.
                    while positions.count < i { positions.append(position) }
                    if i < positions.count { positions[i] = position } else { positions.append(position) }
                    body(sample, position.metric, position.series)
                }
            }
        }
    }

    let site: [SeriesLabel]
    private let entries = Mutex<[String: Device]>([:])

    init(site: [SeriesLabel]) { self.site = site }

    /// The device's cache, made afresh when its labels changed.
    func device(_ device: DeviceLabels) -> Device {
        if let hit = entries.withLock({ $0[device.id] }), hit.labels == device { return hit }
        let entry = Device(labels: device, set: RemoteWriteLabelSet(Self.deviceLabels(device, site: site)))
        entries.withLock { $0[device.id] = entry }
        return entry
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
