import HPCore
@testable import Sinks
import Foundation
import Testing

@Suite("InfluxDB line protocol", .harnessThreads)
struct LineProtocolTests {
    let device = DeviceLabels(id: "hp 1", name: "North, \"A\"=1", location: "", model: "m", manufacturer: "x")

    var report: PollReport {
        PollReport(device: device, timestamp: 1_700_000_000.25, samples: [
            Sample(register: 0, name: "temp", value: .double(21)),
            Sample(register: 1, name: "count", value: .int(-3)),
            Sample(register: 2, name: "on", value: .bool(true)),
            Sample(register: 3, name: "mode", value: .int(2), label: "eco \"plus\""),
            Sample(register: 4, name: "big", value: .uint(UInt64.max)),
            Sample(register: 5, name: "small", value: .uint(7)),
        ], status: DeviceStatus(up: true))
    }

    @Test("escaping, float fields by default, enum label + value, omitted empty tags, precision")
    func encode() throws {
        let ns = try #require(LineProtocol.line(report, precision: .ns))
        #expect(ns == #"heatpump_metrics,heat_pump_id=hp\ 1,model=m,name=North\,\ "A"\=1 temp=21.0,count=-3.0,on=true,mode="eco \"plus\"",mode_value=2.0,big=1.8446744073709552e+19,small=7.0 1700000000250000000"#)
        let s = try #require(LineProtocol.line(report, precision: .s))
        #expect(s.hasSuffix(" 1700000000"))
        #expect(LineProtocol.line(PollReport(device: device, timestamp: 1, samples: [], status: DeviceStatus()), precision: .ns) == nil,
                "a failed poll writes no line")
    }

    @Test("native: integer registers are integers whatever their value; uint64 is unsigned on v2, float on v1")
    func native() throws {
        let v2 = try #require(LineProtocol.line(report, precision: .s, fieldTypes: .native, unsignedFields: true))
        #expect(v2.contains(" temp=21.0,count=-3i,on=true,mode=\"eco \\\"plus\\\"\",mode_value=2i,big=18446744073709551615u,small=7u "))
        let v1 = try #require(LineProtocol.line(report, precision: .s, fieldTypes: .native, unsignedFields: false))
        #expect(v1.contains(",big=1.8446744073709552e+19,small=7.0 "), "the type of a uint64 does not change with its value")
    }

    @Test("non-finite values are left out; a line with nothing left is not written")
    func nonFinite() throws {
        let samples = [Sample(register: 0, name: "a", value: .double(.infinity)), Sample(register: 1, name: "b", value: .double(.nan))]
        #expect(LineProtocol.line(PollReport(device: device, timestamp: 1, samples: samples, status: DeviceStatus()), precision: .s) == nil)
        let mixed = samples + [Sample(register: 2, name: "c", value: .double(1.5))]
        #expect(LineProtocol.line(PollReport(device: device, timestamp: 1, samples: mixed, status: DeviceStatus()), precision: .s)
            == #"heatpump_metrics,heat_pump_id=hp\ 1,model=m,name=North\,\ "A"\=1 c=1.5 1"#)
    }

    @Test("a field can be taken out of a line: escaped keys, quoted strings with spaces and commas survive")
    func removeField() throws {
        let line = #"heatpump_metrics,heat_pump_id=hp\ 1,name=a\,b mode="eco, \"x\" y",odd\ key\,=1.5,n=3i,on=true 1700000000"#
        var parsed = try #require(LineProtocolLine(line))
        #expect(parsed.measurement == "heatpump_metrics")
        #expect(parsed.fields.map(\.key) == ["mode", "odd key,", "n", "on"])
        #expect(parsed.fields.map(\.type) == ["string", "float", "integer", "boolean"])
        #expect(parsed.text == line, "parsing and writing back is lossless")
        parsed.fields.removeAll { $0.key == "odd key," }
        #expect(parsed.text == #"heatpump_metrics,heat_pump_id=hp\ 1,name=a\,b mode="eco, \"x\" y",n=3i,on=true 1700000000"#)
        parsed.fields.removeAll()
        #expect(parsed.text == nil)
        #expect(LineProtocolLine("no_fields") == nil)
        #expect(LineProtocolLine(#"m s="unterminated 1"#) == nil)
    }

    @Test("field type conflicts are read from InfluxDB 1.x (400) and 2.x (422) answers", arguments: [
        #"{"error":"partial write: field type conflict: input field \"x\" on measurement \"m\" is type integer, already exists as type float dropped=2"}"#,
        #"{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \"x\" on measurement \"m\" is type integer, already exists as type float dropped=1"}"#,
    ])
    func conflictMessage(_ body: String) throws {
        let conflict = try #require(FieldTypeConflict(response: body))
        #expect(conflict == FieldTypeConflict(measurement: "m", field: "x", inputType: "integer", existingType: "float"))
        #expect(FieldTypeConflict(response: #"{"error":"field type conflict"}"#) == nil, "a conflict inside one batch names no field")
    }

    @Test("the conflict filter drops a field only from lines whose value has the refused type, and forgets it after the recheck time")
    func filter() throws {
        var filter = FieldConflictFilter(recheck: 60)
        let t0 = Date(timeIntervalSince1970: 1000)
        let conflict = FieldTypeConflict(measurement: "m", field: "x", inputType: "integer", existingType: "float")
        let learned = filter.learn(conflict, now: t0)
        let again = filter.learn(conflict, now: t0)
        #expect(learned && !again, "a known conflict is not learned twice")
        let out = filter.strip(["m,t=a x=1i,y=2i 1", "m,t=b x=1.5,y=2i 2", "m,t=c x=3i 3", "other x=1i 4"], now: t0)
        #expect(out.lines == ["m,t=a y=2i 1", "m,t=b x=1.5,y=2i 2", "other x=1i 4"])
        #expect(out.emptied.map(\.line) == ["m,t=c x=3i 3"])
        #expect(out.dropped == ["x": 2])
        #expect(filter.strip(["m x=1i 5"], now: t0.addingTimeInterval(61)).lines == ["m x=1i 5"], "re-checked after a while")
    }
}
