import CurlKit
import Foundation
import HPCore
@testable import Sinks
import Testing
import TestSupport

/// Backslashes in names (which come from the control socket) against a real influxd: InfluxDB takes a
/// separator right after a backslash as escaped and never unescapes `\\`, so a trailing backslash
/// used to swallow the next comma or space and the server refused every line of that device.
@Suite("InfluxDB line protocol: backslashes against a real influxd", .harnessThreads)
struct LineProtocolBackslashTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var labels: DeviceLabels
        /// Tags as InfluxDB stores them; nil where the tag is left out.
        var stored: [String: String?]
    }

    static let cases: [Case] = [
        Case(description: "trailing backslash on name", labels: DeviceLabels(id: "hp1", name: #"Keller\"#, location: "Haus", model: "m", manufacturer: "x"),
             stored: ["heat_pump_id": "hp1", "name": "Keller", "location": "Haus"]),
        Case(description: "trailing backslashes on id and model", labels: DeviceLabels(id: #"hp2\\"#, name: "n", location: "", model: #"m\"#, manufacturer: "x"),
             stored: ["heat_pump_id": "hp2", "model": "m", "location": nil]),
        Case(description: "backslash before comma, space and equals", labels: DeviceLabels(id: #"hp3\=a"#, name: #"a\, b"#, location: #"C:\ Haus"#, model: "m", manufacturer: "x"),
             stored: ["heat_pump_id": #"hp3\=a"#, "name": #"a\, b"#, "location": #"C:\ Haus"#]),
        Case(description: "backslashes inside and a name of backslashes only", labels: DeviceLabels(id: #"hp4\x\\y"#, name: #"\\"#, location: "l\nm", model: "m", manufacturer: "x"),
             stored: ["heat_pump_id": #"hp4\x\\y"#, "name": nil, "location": "l m"]),
    ]

    @Test("every line is accepted and reads back with its tags and string field", arguments: cases)
    func acceptedByInfluxd(_ c: Case) throws {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE lp")
        let label = #"eco\ "x", y\"#
        let report = PollReport(device: c.labels, timestamp: 1_700_000_000, samples: [
            Sample(register: 0, name: "temp", value: .double(21.5)),
            Sample(register: 1, name: "mode", value: .int(2), label: label),
            Sample(register: 2, name: #"odd\"#, value: .double(1)),
        ], status: DeviceStatus(up: true))
        let line = try #require(LineProtocol.line(report, precision: .s))
        let client = try CurlHTTPClient(options: .init(timeout: 10))
        let response = try client.post(url: "\(influx.url)/write?db=lp&precision=s", body: Array(line.utf8), headers: [])
        #expect(response.status == 204, "\(line): \(response.body)")
        let row = try #require(try influx.select("SELECT * FROM heatpump_metrics", db: "lp").first, "\(line)")
        for (tag, value) in c.stored {
            #expect(row[tag] as? String == value, "\(tag) of \(line): \(row)")
        }
        #expect(row["temp"] as? Double == 21.5)
        #expect(row["mode"] as? String == label)
        #expect(row["odd"] as? Double == 1, "a trailing backslash on a field key is dropped too")
        // The conflict filter's parser reads the line as InfluxDB does and writes it back unchanged.
        var parsed = try #require(LineProtocolLine(line))
        #expect(parsed.measurement == "heatpump_metrics")
        #expect(parsed.fields.map(\.key) == ["temp", "mode", "mode_value", "odd"], "\(line)")
        #expect(parsed.text == line)
        parsed.fields.removeAll { $0.key == "temp" }
        let rewritten = try #require(parsed.text)
        let again = try client.post(url: "\(influx.url)/write?db=lp&precision=s", body: Array(rewritten.utf8), headers: [])
        #expect(again.status == 204, "\(rewritten): \(again.body)")
    }

    @Test("the line parser reads keys the way InfluxDB does: a separator after a backslash is escaped")
    func parserFollowsInfluxRule() throws {
        let line = #"m,t=a\\,u=b k\\==1,k2\ x=2 5"#
        let parsed = try #require(LineProtocolLine(line))
        #expect(parsed.series == #"m,t=a\\,u=b"#)
        #expect(parsed.fields.map(\.key) == [#"k\="#, "k2 x"])
        #expect(parsed.fields.map(\.raw) == ["1", "2"])
        #expect(parsed.text == line)
    }
}
