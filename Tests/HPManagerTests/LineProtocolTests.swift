import HPCore
import Sinks
import Testing

@Suite("InfluxDB line protocol")
struct LineProtocolTests {
    let device = DeviceLabels(id: "hp 1", name: "North, \"A\"=1", location: "", model: "m", manufacturer: "x")

    @Test("escaping, field types, enum label + value, omitted empty tags, precision")
    func encode() throws {
        let report = PollReport(device: device, timestamp: 1_700_000_000.25, samples: [
            Sample(register: 0, name: "temp", value: .double(21)),
            Sample(register: 1, name: "count", value: .int(-3)),
            Sample(register: 2, name: "on", value: .bool(true)),
            Sample(register: 3, name: "mode", value: .int(2), label: "eco \"plus\""),
            Sample(register: 4, name: "big", value: .uint(UInt64.max)),
        ], status: DeviceStatus(up: true))
        let ns = try #require(LineProtocol.line(report, precision: .ns))
        #expect(ns == #"heatpump_metrics,heat_pump_id=hp\ 1,model=m,name=North\,\ "A"\=1 temp=21.0,count=-3i,on=true,mode="eco \"plus\"",mode_value=2i,big=1.8446744073709552e+19 1700000000250000000"#)
        let s = try #require(LineProtocol.line(report, precision: .s))
        #expect(s.hasSuffix(" 1700000000"))
        #expect(LineProtocol.line(PollReport(device: device, timestamp: 1, samples: [], status: DeviceStatus()), precision: .ns) == nil,
                "a failed poll writes no line")
    }
}
