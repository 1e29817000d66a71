import HPCore

/// The remote-write series of one poll: the same names and labels as the metrics file
/// (`heatpump_<register>{site, heatpump_id, name, location, model, manufacturer, …}`), stamped
/// with the poll's time instead of the scrape's.
///
/// Per poll: `heatpump_up`, `heatpump_poll_duration_seconds` and, when the poll succeeded, one
/// sample per numeric register (enums as their number, named bits as 0/1; template instances with
/// their labels). Text registers have no number and are left out; so are NaN and infinities.
enum RemoteWriteSeries {
    static func samples(_ report: PollReport, site: [SeriesLabel]) -> [RemoteWriteSample] {
        samples(report, labels: RemoteWriteLabelCache(site: site))
    }

    /// With the sink's cache: the device's labels are sorted and encoded, and its metric names made, once, not per poll.
    static func samples(_ report: PollReport, labels cache: RemoteWriteLabelCache) -> [RemoteWriteSample] {
        guard let timestamp = milliseconds(report.timestamp) else { return [] }
        let cached = cache.device(report.device)
        let device = cached.set
        var out: [RemoteWriteSample] = []
        out.reserveCapacity(report.status.up ? report.samples.count + 2 : 2)
        out.append(RemoteWriteSample(name: "heatpump_up", series: device, value: report.status.up ? 1 : 0, timestamp: timestamp))
        if report.status.pollDuration.isFinite {
            out.append(RemoteWriteSample(name: "heatpump_poll_duration_seconds", series: device, value: report.status.pollDuration, timestamp: timestamp))
        }
        guard report.status.up else { return out }
        cached.forEachSeries(report.samples) { sample, metric, series in
            let value = sample.value.doubleValue
            guard value.isFinite else { return }
            out.append(RemoteWriteSample(name: metric, series: series, value: value, timestamp: timestamp))
        }
        return out
    }

    /// Unix seconds as whole milliseconds; nil for a time no receiver could store.
    static func milliseconds(_ seconds: Double) -> Int64? {
        let ms = (seconds * 1000).rounded()
        guard ms.isFinite, abs(ms) < 9e15 else { return nil }
        return Int64(exactly: ms)
    }
}
