import CurlKit
import HPCore
import SwiftProtobuf

/// Builds the body of one remote-write request: a `prometheus.WriteRequest` (Proto/remote.proto),
/// snappy block-compressed.
///
/// Samples of the same series share one TimeSeries, in the order given (receivers need each
/// series' samples oldest first, which publish order already is). `encode` writes the message's
/// bytes directly: each series' label entries come ready-made from its `RemoteWriteLabelSet`
/// (made once per device, not per sample), `__name__` and the samples are appended as raw fields.
/// `request` builds the same message with swift-protobuf; it is the reference `encode` is tested
/// against (the same bytes) and is not on the sending path.
enum RemoteWriteEncoder {
    static func body(_ samples: [RemoteWriteSample]) throws -> [UInt8] {
        try Snappy.compress(encode(samples))
    }

    /// The serialized `WriteRequest`, byte for byte what `try request(samples).serializedBytes()` gives.
    static func encode(_ samples: [RemoteWriteSample]) -> [UInt8] {
        // Pass 1: the series in order of first appearance, each with a chain of its samples.
        var seriesIndex: [SeriesKey: Int] = [:]
        seriesIndex.reserveCapacity(samples.count)
        var first: [Int] = []
        var last: [Int] = []
        var contentSize: [Int] = []
        var next = [Int](repeating: -1, count: samples.count)
        for (i, sample) in samples.enumerated() {
            let sampleSize = RemoteWriteProto.sampleSize(value: sample.value, timestamp: sample.timestamp)
            let entry = 1 + RemoteWriteProto.varintSize(UInt64(sampleSize)) + sampleSize
            let key = SeriesKey(sample)
            if let s = seriesIndex[key] {
                next[last[s]] = i
                last[s] = i
                contentSize[s] += entry
            } else {
                seriesIndex[key] = first.count
                first.append(i)
                last.append(i)
                contentSize.append(sample.series.before.count + RemoteWriteProto.nameLabelSize(sample.name) + sample.series.after.count + entry)
            }
        }
        // Pass 2: each TimeSeries: labels (before, __name__, after), then its samples.
        var out: [UInt8] = []
        out.reserveCapacity(contentSize.reduce(0) { $0 + $1 + 4 })
        for (s, head) in first.enumerated() {
            let series = samples[head]
            out.append(RemoteWriteProto.field1Bytes)
            RemoteWriteProto.appendVarint(UInt64(contentSize[s]), to: &out)
            out.append(contentsOf: series.series.before)
            RemoteWriteProto.appendLabel(name: RemoteWriteProto.nameLabel, value: series.name, to: &out)
            out.append(contentsOf: series.series.after)
            var i = head
            while i >= 0 {
                RemoteWriteProto.appendSample(value: samples[i].value, timestamp: samples[i].timestamp, to: &out)
                i = next[i]
            }
        }
        return out
    }

    /// One series of a request: equal labels and name.
    private struct SeriesKey: Hashable {
        let sample: RemoteWriteSample

        init(_ sample: RemoteWriteSample) { self.sample = sample }

        static func == (a: SeriesKey, b: SeriesKey) -> Bool { a.sample.name == b.sample.name && a.sample.series.sameLabels(as: b.sample.series) }

        func hash(into hasher: inout Hasher) {
            hasher.combine(sample.series.hash)
            hasher.combine(sample.name)
        }
    }

    /// The reference: the same message built with swift-protobuf (labels as `Prometheus_Label` per series).
    static func request(_ samples: [RemoteWriteSample]) -> Prometheus_WriteRequest {
        var index: [[SeriesLabel]: Int] = [:]
        var request = Prometheus_WriteRequest()
        request.timeseries.reserveCapacity(samples.count)
        for sample in samples {
            var point = Prometheus_Sample()
            point.value = sample.value
            point.timestamp = sample.timestamp
            let labels = sample.labels
            if let at = index[labels] {
                request.timeseries[at].samples.append(point)
                continue
            }
            var series = Prometheus_TimeSeries()
            series.labels = labels.map { label in
                var l = Prometheus_Label()
                l.name = label.name
                l.value = label.value
                return l
            }
            series.samples = [point]
            index[labels] = request.timeseries.count
            request.timeseries.append(series)
        }
        return request
    }
}
