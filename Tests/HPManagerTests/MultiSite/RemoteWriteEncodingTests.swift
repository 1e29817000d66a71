import CurlKit
import Foundation
import HPCore
@testable import Sinks
import SwiftProtobuf
import Testing

/// The remote-write body and the spool's sample lines, without a receiver.
@Suite("remote write encoding", .harnessThreads)
struct RemoteWriteEncodingTests {
    static let device = DeviceLabels(id: "hp \"1\"", name: "Cellar\\north", location: "", model: "nibe_s1155", manufacturer: "NIBE")

    static func report(up: Bool = true) -> PollReport {
        PollReport(device: device, timestamp: 1_700_000_000.1234, samples: [
            Sample(register: 0, name: "supply_temp", value: .double(35.5)),
            Sample(register: 1, name: "mode", value: .int(2), label: "heating"),
            Sample(register: 2, name: "serial", value: .string("ABC")),
            Sample(register: 3, name: "broken", value: .double(.nan)),
            Sample(register: 4, name: "flow_temp", value: .double(30), instance: SeriesInstance(series: "circuit_flow_temp", labels: [.init(name: "circuit", value: "A")])),
        ], status: DeviceStatus(state: .polling, up: up, pollDuration: 0.25, pollInterval: 10))
    }

    @Test("a poll becomes up, duration and one sample per numeric register, with the site, device and instance labels")
    func series() throws {
        let site = SiteSettings(id: "zrh", labels: [.init(name: "region", value: "eu")]).seriesLabels
        let samples = RemoteWriteSeries.samples(Self.report(), site: site)
        #expect(samples.map(\.name) == ["heatpump_up", "heatpump_poll_duration_seconds", "heatpump_supply_temp", "heatpump_mode", "heatpump_circuit_flow_temp"])
        #expect(samples.allSatisfy { $0.timestamp == 1_700_000_000_123 })
        let flow = try #require(samples.last)
        #expect(flow.labels.map(\.name) == ["__name__", "circuit", "heatpump_id", "manufacturer", "model", "name", "region", "site"],
                "sorted, empty location left out")
        #expect(RemoteWriteSeries.samples(Self.report(up: false), site: site).map(\.name) == ["heatpump_up", "heatpump_poll_duration_seconds"])
        #expect(RemoteWriteSeries.samples(PollReport(device: Self.device, timestamp: .infinity, samples: [], status: DeviceStatus(up: true)), site: []).isEmpty,
                "a time no receiver can store is not a trap")
    }

    @Test("spool lines parse back to the same sample (escapes, exact doubles)")
    func lineRoundTrip() throws {
        for sample in RemoteWriteSeries.samples(Self.report(), site: [.init(name: "site", value: "a,b=\"c\"\nd")]) {
            #expect(RemoteWriteSample(line: sample.line) == sample, "\(sample.line)")
        }
        let odd = RemoteWriteSample(name: "x", labels: [], value: 0.1 + 0.2, timestamp: -5)
        #expect(RemoteWriteSample(line: odd.line) == odd)
        for bad in ["", "x", "x{a=\"b} 1 2", "x{} 1", "x{} one 2", "{a=\"b\"} 1 2"] {
            #expect(RemoteWriteSample(line: bad) == nil, "\(bad)")
        }
    }

    @Test("the body is a snappy-compressed prometheus.WriteRequest, one TimeSeries per series, samples in order")
    func body() throws {
        let a = RemoteWriteSeries.samples(Self.report(), site: [])
        var later = Self.report()
        later.timestamp += 10
        let b = RemoteWriteSeries.samples(later, site: [])
        let body = try RemoteWriteEncoder.body(a + b)
        let request = try Prometheus_WriteRequest(serializedBytes: try Snappy.uncompress(body))
        #expect(request.timeseries.count == a.count)
        for series in request.timeseries {
            #expect(series.samples.map(\.timestamp) == [1_700_000_000_123, 1_700_000_010_123])
            #expect(series.labels.map(\.name) == series.labels.map(\.name).sorted() && series.labels.contains { $0.name == "__name__" })
        }
        let supply = try #require(request.timeseries.first { $0.labels.contains { $0.name == "__name__" && $0.value == "heatpump_supply_temp" } })
        #expect(supply.samples.map(\.value) == [35.5, 35.5])
    }
}
