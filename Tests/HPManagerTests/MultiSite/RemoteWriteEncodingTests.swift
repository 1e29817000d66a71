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

    @Test("a device's names are cached per sample position and rebuilt when its model changes what a position holds")
    func cachedNamesFollowTheModel() throws {
        let cache = RemoteWriteLabelCache(site: [])
        let circuitA = SeriesInstance(series: "circuit_flow", labels: [.init(name: "circuit", value: "A")])
        let circuitB = SeriesInstance(series: "circuit_flow", labels: [.init(name: "circuit", value: "B")])
        func names(_ samples: [Sample]) -> [String] {
            let report = PollReport(device: Self.device, timestamp: 1_700_000_000, samples: samples, status: DeviceStatus(state: .polling, up: true, pollDuration: 0.1))
            return RemoteWriteSeries.samples(report, labels: cache).dropFirst(2).map { $0.name + "{" + $0.series.text + "}" }
        }
        let device = "heatpump_id=\"hp \\\"1\\\"\",manufacturer=\"NIBE\",model=\"nibe_s1155\",name=\"Cellar\\\\north\""
        let first = names([Sample(register: 0, name: "supply temp", value: .double(1)), Sample(register: 1, name: "text", value: .string("x")),
                           Sample(register: 2, name: "flow", value: .double(2), instance: circuitA)])
        #expect(first == ["heatpump_supply_temp{\(device)}", "heatpump_circuit_flow{circuit=\"A\",\(device)}"])
        #expect(names([Sample(register: 0, name: "supply temp", value: .double(3)), Sample(register: 1, name: "text", value: .string("y")),
                       Sample(register: 2, name: "flow", value: .double(4), instance: circuitA)]) == first, "the same model: the same names")
        // A reload that renames a register, makes the text one numeric and moves the instance to circuit B.
        #expect(names([Sample(register: 0, name: "return_temp", value: .double(1)), Sample(register: 1, name: "text", value: .int(7)),
                       Sample(register: 2, name: "flow", value: .double(2), instance: circuitB)])
                == ["heatpump_return_temp{\(device)}", "heatpump_text{\(device)}", "heatpump_circuit_flow{circuit=\"B\",\(device)}"])
        #expect(names([Sample(register: 0, name: "x-ä", value: .double(1))]) == ["heatpump_x__{\(device)}"], "fewer samples; sanitized")
    }

    @Test("metric names: valid ones are kept as they are, anything else becomes one underscore per character")
    func sanitize() {
        #expect(PrometheusText.sanitize("supply_temp:avg2") == "supply_temp:avg2")
        #expect(PrometheusText.sanitize("supply temp-ä\r\né") == "supply_temp____")
        #expect(PrometheusText.sanitize("") == "")
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
        // The sink's reader (label sets reused by their text) reads every line as the full parse does,
        // the first time and with its cache warm, odd lines included.
        let reader = RemoteWriteLineReader()
        let lines = RemoteWriteSeries.samples(Self.report(), site: [.init(name: "site", value: "a,b=\"c\"}\nd\\")]).map(\.line)
            + ["x{a=\"b\"}  1  2", "x{a=\"b\"} 1 2 ", "x{a=\"b\"} 1", "x{a=\"b\"} 1 2", "y{a=\"b\"} 3 4", "x{a=\"}\"} 5 6", "x{a=\"b} 1 2", "x{} 1 2", "x{}"]
        for pass in 0..<2 {
            for line in lines {
                let read = reader.sample(Substring(line))
                #expect(read == RemoteWriteSample(line: line), "pass \(pass): \(line)")
                if let read { #expect(read.series.text == RemoteWriteSample(line: line)?.series.text) }
            }
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
