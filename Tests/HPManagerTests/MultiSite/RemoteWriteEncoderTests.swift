import CurlKit
import Foundation
import HPCore
@testable import Sinks
import SwiftProtobuf
import Testing

/// The hand-written remote-write encoding against swift-protobuf's, on random requests.
@Suite("remote write encoder against swift-protobuf", .harnessThreads)
struct RemoteWriteEncoderTests {
    /// Label names and values that exercise the byte order around `__name__` (upper case and `_`
    /// sort before it), empty values (proto3 leaves them out), long values (2-byte lengths) and UTF-8.
    static let names = ["site", "Region", "_zone", "A", "heatpump_id", "model", "zz", "__a", "b_"]
    static let values = ["", "x", "hp-1", "Zürich Seefeld", String(repeating: "v", count: 200), "a\"b\\c\nd"]
    static let doubles: [Double] = [0, -0.0, 1, -1, 0.1 + 0.2, 35.5, 1e300, -1e-300, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
    static let times: [Int64] = [0, 1, -1, 127, 128, 1_700_000_000_123, .max, .min, -1_700_000_000_000]

    static func randomRequest(_ rng: inout some RandomNumberGenerator) -> [RemoteWriteSample] {
        let seriesCount = Int.random(in: 1...12, using: &rng)
        let series: [(String, RemoteWriteLabelSet)] = (0..<seriesCount).map { _ in
            var labels: [SeriesLabel] = []
            for name in names.shuffled(using: &rng).prefix(Int.random(in: 0...5, using: &rng)) {
                labels.append(SeriesLabel(name: name, value: values.randomElement(using: &rng) ?? ""))
            }
            let metric = ["heatpump_up", "heatpump_flow_temp", "x", "", String(repeating: "m", count: 130)].randomElement(using: &rng) ?? "x"
            return (metric, RemoteWriteLabelSet(labels))
        }
        return (0..<Int.random(in: 0...60, using: &rng)).map { _ in
            let (name, set) = series.randomElement(using: &rng) ?? ("x", RemoteWriteLabelSet([]))
            // Sometimes an equal label set made separately (as samples parsed back from the spool are).
            let labels = Bool.random(using: &rng) ? set : RemoteWriteLabelSet(set.labels.shuffled(using: &rng))
            let value = Bool.random(using: &rng) ? doubles.randomElement(using: &rng) ?? 0 : Double.random(in: -1e6...1e6, using: &rng)
            let time = Bool.random(using: &rng) ? times.randomElement(using: &rng) ?? 0 : Int64.random(in: 0...2_000_000_000_000, using: &rng)
            return RemoteWriteSample(name: name, series: labels, value: value, timestamp: time)
        }
    }

    @Test("2,000 random requests: the same bytes as swift-protobuf, and they decode to the reference message")
    func randomRequests() throws {
        var rng = SplitMix64(seed: 0x5EED_14)
        for round in 0..<2_000 {
            let samples = Self.randomRequest(&rng)
            let reference = RemoteWriteEncoder.request(samples)
            let bytes = RemoteWriteEncoder.encode(samples)
            let expected: [UInt8] = try reference.serializedBytes()
            #expect(bytes == expected, "round \(round): \(samples.count) samples")
            let decoded = try Prometheus_WriteRequest(serializedBytes: bytes)
            #expect(decoded == reference, "round \(round)")
            if bytes != expected { break }
        }
    }

    @Test("the poll path: a device's cached labels encode as swift-protobuf does, and the body decompresses to the reference")
    func pollPath() throws {
        let cache = RemoteWriteLabelCache(site: SiteSettings(id: "zrh", labels: [.init(name: "Region", value: "eu")]).seriesLabels)
        var samples: [RemoteWriteSample] = []
        for tick in 0..<3 {
            for d in 0..<4 {
                let report = PollReport(device: DeviceLabels(id: "hp-\(d)", name: "n\(d)", location: d == 0 ? "" : "L", model: "m", manufacturer: "x"),
                                        timestamp: 1_700_000_000 + Double(tick * 10),
                                        samples: [Sample(register: 0, name: "t", value: .double(Double(d) + 0.5)),
                                                  Sample(register: 1, name: "flow", value: .int(3), instance: SeriesInstance(series: "c_flow", labels: [.init(name: "circuit", value: "A")]))],
                                        status: DeviceStatus(state: .polling, up: true, pollDuration: 0.2))
                samples += RemoteWriteSeries.samples(report, labels: cache)
            }
        }
        #expect(cache.count == 4)
        let reference = RemoteWriteEncoder.request(samples)
        #expect(reference.timeseries.count == 4 * 4 && reference.timeseries.allSatisfy { $0.samples.count == 3 })
        let body = try RemoteWriteEncoder.body(samples)
        #expect(try Prometheus_WriteRequest(serializedBytes: try Snappy.uncompress(body)) == reference)
        #expect(RemoteWriteEncoder.encode(samples) == (try reference.serializedBytes() as [UInt8]))
    }
}
