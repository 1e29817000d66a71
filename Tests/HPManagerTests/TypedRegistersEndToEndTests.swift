import CurlKit
import DeviceActor
import Drivers
import Foundation
import HPCore
import Sinks
import Testing
import TestSupport

/// A user's registers.yml with string, bit and float16 registers, polled from hpsim's matrix profile:
/// by the real daemon into the metrics file, and by the real poller into a real influxd.
@Suite("String, bit and float16 registers end to end", .harnessThreads, .serialized)
struct TypedRegistersEndToEndTests {
    /// Addresses of hpsim's matrix profile (Sources/hpsim/SimProfiles.swift), declared as a user would.
    static let registersYAML = """
    models:
      typed:
        manufacturer: Lab
        registers:
          - {name: firmware_version, address: 300, data_type: string, length: 8, description: "Firmware version"}
          - {name: controller_name, address: 344, data_type: string, length: 6, byte_order: BADC}
          - {name: pump_running, address: 220, data_type: uint16, bit: 15}
          - {name: heater_on, address: 220, data_type: uint16, bit: 2}
          - {name: flow_rate, address: 80, data_type: float16, unit: "l/min"}
          - {name: half_max, address: 216, data_type: half}
          - {name: half_setpoint, address: 500, data_type: float16, access: read_write, min: -50, max: 100}

    """

    @Test("hpmanagerd exports text as heatpump_<name>_info{value=…} 1, bits as 0/1 and float16 as numbers")
    func metricsFile() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let harness = try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0], model: "typed")], interval: 0.3)
        try harness.dir.write("registers.yml", Self.registersYAML)
        let daemon = try harness.start()
        let labels = ["heatpump_id": "hp1"]
        let m = try await DaemonHarness.waitFor(daemon, "typed registers") { $0.value("heatpump_half_max", labels) != nil }
        #expect(m.value("heatpump_firmware_version_info", labels.merging(["value": "HPM-2.14.4"]) { $1 }) == 1, "\(m.text)")
        #expect(m.value("heatpump_controller_name_info", labels.merging(["value": "Navigator"]) { $1 }) == 1)
        #expect(!m.has("heatpump_firmware_version", labels), "text has no numeric series")
        #expect(m.value("heatpump_pump_running", labels) == 1, "bit 15 of 0xA5C3")
        #expect(m.value("heatpump_heater_on", labels) == 0, "bit 2 of 0xA5C3")
        #expect(m.value("heatpump_flow_rate", labels) == -12.375)
        #expect(m.value("heatpump_half_max", labels) == 65504)
        #expect(m.text.contains("# HELP heatpump_firmware_version_info Firmware version"))

        // A float16 write is rounded to the nearest half (21.3 → 21.296875): verified, not "read-back differs".
        var r = try ControlSocketTests.ctl(harness.socketPath, ["write", "hp1", "half_setpoint", "21.3"])
        #expect(r.0 == 0 && r.1.contains("(read back 21.297, verified)"), "\(r.1) \(r.2)")
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 500")["value"] as? Int == 0x4D53)
        _ = try await DaemonHarness.waitFor(daemon, "next poll reads the half") { $0.value("heatpump_half_setpoint", labels) == 21.296875 }
        r = try ControlSocketTests.ctl(harness.socketPath, ["read", "hp1", "firmware_version", "pump_running"])
        let rows = r.1.split(separator: "\n").map { Array($0.split(separator: " ").map(String.init).prefix(2)) }
        #expect(r.0 == 0 && rows.contains(["firmware_version", "HPM-2.14.4"]) && rows.contains(["pump_running", "1"]), "read shows text and the bit: \(r.1) \(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "hp1", "firmware_version", "x"])
        #expect(r.0 == 1 && r.2.contains("read-only"), "\(r.2)")
        let (status, output) = try Promtool.check(try #require(daemon.metrics()).text)
        #expect(status == 0 || status == 3, "promtool: \(output)")
    }

    @Test("a poll's text is a string field in a real influxd, bits are booleans, float16 floats")
    func influx() async throws {
        let config = try ConfigLoader(builtinModelFiles: [], environment: [:])
            .load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": Self.registersYAML])
        let model = try #require(config.models["typed"])
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        let outcome = try await PollExecutor(unitID: 1, timeout: 2, registers: model.registers).execute(ReadPlanner().plan(model.registers), on: link)
        #expect(outcome.failure == nil && outcome.samples.count == model.registers.count)
        let device = DeviceLabels(id: "hp1", name: "HP", location: "Lab", model: model.name, manufacturer: "Lab")
        let line = try #require(LineProtocol.line(PollReport(device: device, timestamp: 1_700_000_000, samples: outcome.samples,
                                                             status: DeviceStatus(up: true)), precision: .s, fieldTypes: .native))
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE typed")
        let client = try CurlHTTPClient(options: .init(timeout: 10))
        let response = try client.post(url: "\(influx.url)/write?db=typed&precision=s", body: Array(line.utf8), headers: [])
        #expect(response.status == 204, "\(line): \(response.body)")
        let row = try #require(try influx.select("SELECT * FROM heatpump_metrics", db: "typed").first, "\(line)")
        #expect(row["firmware_version"] as? String == "HPM-2.14.4", "\(row)")
        #expect(row["controller_name"] as? String == "Navigator")
        #expect(row["pump_running"] as? Bool == true && row["heater_on"] as? Bool == false)
        #expect(row["flow_rate"] as? Double == -12.375 && row["half_max"] as? Double == 65504)
    }
}
