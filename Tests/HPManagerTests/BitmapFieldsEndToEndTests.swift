import DeviceActor
import Drivers
import Foundation
import HPCore
import Sinks
import Testing
import TestSupport

/// HPManager's real registers.yml polled from the hpsim Stiebel Eltron WPM profile: named bits of the
/// operating status word reach the metrics file as 0/1 series and line protocol as booleans.
@Suite("Bitmap fields end to end", .harnessThreads, .serialized)
struct BitmapFieldsEndToEndTests {
    @Test("hpmanagerd exports heatpump_compressor_running and friends from HPManager's registers.yml")
    func metricsFile() async throws {
        let sim = try SimulatorProcess(["--tcp", "stiebel:0"])
        let harness = try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0], model: "stiebel_eltron_wpm", location: "Garage")], interval: 0.3)
        try harness.dir.write("registers.yml", try HPManagerFixtures.text("registers.yml"))
        let daemon = try harness.start()
        let labels = ["heatpump_id": "hp1"]
        let m = try await DaemonHarness.waitFor(daemon, "operating status and its bits") {
            $0.value("heatpump_operating_status", labels) != nil && $0.value("heatpump_compressor_running", labels) != nil
        }
        let status = try #require(m.value("heatpump_operating_status", labels).flatMap { UInt16(exactly: $0) })
        // Every named bit agrees with the number of the same poll.
        let names = [(0, "hc1_pump"), (1, "hc2_pump"), (4, "hp_heating_mode"), (6, "compressor_running"), (9, "defrost_mode"), (11, "silent_mode_2")]
        for (bit, name) in names {
            #expect(m.value("heatpump_\(name)", labels) == Double(status >> bit & 1), "\(name) (bit \(bit)) of \(status)")
        }
        #expect(m.value("heatpump_hc1_pump", labels) == 1, "the simulated HC1 pump always runs")
        #expect(m.value("heatpump_operating_status_bit", labels.merging(["bit": "0"]) { $1 }) == 1, "the _bit series stay")
        #expect(m.value("heatpump_evu_release", labels) == 1)
        #expect(m.text.contains("# HELP heatpump_hc1_pump Bit 0 of operating_status"))
        // The utility blocks the heat pump: the bit follows the register.
        try sim.command("set \(sim.ports[0]) 1 input 2501 0")
        _ = try await DaemonHarness.waitFor(daemon, "evu_release 0") { $0.value("heatpump_evu_release", labels) == 0 }
        let (status2, output) = try Promtool.check(try #require(daemon.metrics()).text)
        #expect(status2 == 0 || status2 == 3, "promtool: \(output)")
    }

    @Test("a poll of HPManager's model encodes named bits as boolean line-protocol fields")
    func lineProtocol() async throws {
        let config = try ConfigLoader(builtinModelFiles: [], environment: [:]).load(directory: HPManagerFixtures.directory)
        let model = try #require(config.models["stiebel_eltron_wpm"])
        let sim = try SimulatorProcess(["--tcp", "stiebel:0"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        let outcome = try await PollExecutor(unitID: 1, timeout: 2, registers: model.registers).execute(ReadPlanner().plan(model.registers), on: link)
        #expect(outcome.failure == nil && outcome.rejected.isEmpty)
        let device = DeviceLabels(id: "hp1", name: "Heat Pump 1", location: "Garage", model: model.name, manufacturer: "")
        let line = try #require(LineProtocol.line(PollReport(device: device, timestamp: 1_700_000_000, samples: outcome.samples,
                                                             status: DeviceStatus(up: true)), precision: .s, fieldTypes: .native))
        let fields = Self.fields(line)
        let status = try #require(fields["operating_status"].flatMap { UInt16($0.dropLast()) }, "integer field: \(line)")
        for (bit, name) in [(0, "hc1_pump"), (6, "compressor_running"), (9, "defrost_mode")] {
            #expect(fields[name] == (status >> bit & 1 == 1 ? "true" : "false"), "\(name) in \(line)")
        }
        #expect(fields["evu_release"] == "true", "a bit named like its register is a boolean field, as HPManager writes it")
        #expect(fields["operating_mode"] == "\"Comfort mode\"" && fields["operating_mode_value"] == "3i")
        #expect(fields.count == 29 + 12 + 2, "29 registers, 12 named bits of operating_status, 2 enum _value fields")
    }

    /// Field key → raw value text of one line-protocol line (quoted strings and escapes respected).
    static func fields(_ line: String) -> [String: String] {
        var result: [String: String] = [:]
        var section = 0, key = "", value = "", inKey = true, quoted = false, escaped = false
        func flush() {
            if section == 1, !key.isEmpty { result[key] = value }
            key = ""; value = ""; inKey = true
        }
        for ch in line {
            if escaped { escaped = false; if inKey { key.append(ch) } else { value.append(ch) }; continue }
            if ch == "\\" { escaped = true; if !inKey { value.append(ch) }; continue }
            if quoted { value.append(ch); if ch == "\"" { quoted = false }; continue }
            switch ch {
            case " ": flush(); section += 1
            case "," where section == 1: flush()
            case "=" where section == 1 && inKey: inKey = false
            case "\"" where !inKey: quoted = true; value.append(ch)
            default: if section == 1 { if inKey { key.append(ch) } else { value.append(ch) } }
            }
        }
        return result
    }
}
