import CurlKit
import HPCore
import SwiftProtobuf

/// Builds the body of one remote-write request: a `prometheus.WriteRequest` (generated from
/// Proto/remote.proto), snappy block-compressed.
enum RemoteWriteEncoder {
    /// Samples of the same series share one TimeSeries, in the order given (receivers need each
    /// series' samples oldest first, which publish order already is).
    static func request(_ samples: [RemoteWriteSample]) -> Prometheus_WriteRequest {
        var index: [[SeriesLabel]: Int] = [:]
        var request = Prometheus_WriteRequest()
        request.timeseries.reserveCapacity(samples.count)
        for sample in samples {
            var point = Prometheus_Sample()
            point.value = sample.value
            point.timestamp = sample.timestamp
            if let at = index[sample.labels] {
                request.timeseries[at].samples.append(point)
                continue
            }
            var series = Prometheus_TimeSeries()
            series.labels = sample.labels.map { label in
                var l = Prometheus_Label()
                l.name = label.name
                l.value = label.value
                return l
            }
            series.samples = [point]
            index[sample.labels] = request.timeseries.count
            request.timeseries.append(series)
        }
        return request
    }

    static func body(_ samples: [RemoteWriteSample]) throws -> [UInt8] {
        let bytes: [UInt8] = try request(samples).serializedBytes()
        return try Snappy.compress(bytes)
    }
}
