import Synchronization

/// Where a remote-write sink's requests spend their time, summed over all shards (like Prometheus'
/// `prometheus_remote_storage_sent_batch_duration_seconds`): encoding and compressing the body,
/// and the HTTP round trip until the receiver's answer. Shows whether a sink that falls behind is
/// short of CPU (encode) or waiting for its receiver (request).
final class RemoteWriteTimings: Sendable {
    struct Totals: Sendable {
        var requests = 0
        var encodeSeconds = 0.0
        var requestSeconds = 0.0
        var bodyBytes = 0
    }

    private let totals = Mutex(Totals())

    func record(encode: Duration, request: Duration, bytes: Int) {
        totals.withLock {
            $0.requests += 1
            $0.encodeSeconds += Self.seconds(encode)
            $0.requestSeconds += Self.seconds(request)
            $0.bodyBytes += bytes
        }
    }

    var snapshot: Totals { totals.withLock { $0 } }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }
}
