import DeviceActor
import Drivers
import Foundation
import HPCore
import Sinks
import Testing
import TestSupport

/// Built-in models drop the vendors' "not available" values: hpsim serves each vendor's sentinel
/// (its own table, `absent POINT on`) and the register's series disappears while the rest arrives.
@Suite("Not-available sentinels of the built-in models", .harnessThreads, .serialized)
struct NotAvailableSentinelTests {
    struct Vendor: Sendable, CustomStringConvertible {
        var profile: String
        var model: String
        /// Registers whose sentinel hpsim serves.
        var absent: [String]
        /// Registers that must still arrive in the same poll.
        var present: [String]
        var description: String { model }
    }

    static let vendors = [
        Vendor(profile: "idm", model: "idm_navigator_2",
               absent: ["energy_heating", "energy_total", "energy_dhw", "current_power", "system_mode", "hp_operating_mode",
                        "hp_sum_alarm", "compressor_status_1", "internal_message"],
               present: ["outdoor_temp", "dhw_setpoint", "hp_flow_temp", "charging_pump_status"]),
        Vendor(profile: "nibe", model: "nibe_s1155",
               // s16 −32768 (input and holding), s8 −128, u8 255, u32 0xFFFFFFFF; climate-system
               // registers (room_setpoint, heating_offset) are template registers now (NIBEModelTests).
               absent: ["alarm_number", "degree_minute_balance", "hot_water_mode_current", "priority", "current_be1"],
               present: ["outdoor_temp", "compressor_status", "total_production"]),
    ]

    @Test("line protocol of a poll has no field for a register serving its sentinel", arguments: vendors)
    func lineProtocol(_ vendor: Vendor) async throws {
        let config = try ConfigLoader(builtinModelFiles: BuiltinModels.files).load(files: ["heatpumps.yml": "heatpumps: []\n"])
        let model = try #require(config.models[vendor.model])
        let sim = try SimulatorProcess(["--tcp", "\(vendor.profile):0"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        let executor = PollExecutor(unitID: 1, timeout: 2, registers: model.registers)
        let device = DeviceLabels(id: "hp1", name: "Heat Pump 1", location: "Lab", model: model.name, manufacturer: model.manufacturer)
        func poll() async throws -> [String: String] {
            let outcome = try await executor.execute(ReadPlanner().plan(model.registers), on: link)
            #expect(outcome.failure == nil && outcome.rejected.isEmpty)
            let line = try #require(LineProtocol.line(PollReport(device: device, timestamp: 1_700_000_000, samples: outcome.samples,
                                                                 status: DeviceStatus(up: true)), precision: .s, fieldTypes: .native))
            return BitmapFieldsEndToEndTests.fields(line)
        }
        let normal = try await poll()
        for name in vendor.absent + vendor.present { #expect(normal[name] != nil, "\(name) present normally: \(normal)") }

        for name in vendor.absent { try sim.command("absent \(sim.ports[0]) 1 \(name) on") }
        let fields = try await poll()
        for name in vendor.absent {
            #expect(fields.keys.filter { Self.isField($0, of: name) }.isEmpty, "\(name) (and enum companions) absent: \(fields)")
        }
        for name in vendor.present { #expect(fields[name] != nil, "\(name) still arrives: \(fields)") }
        #expect(fields.count == normal.count - normal.keys.filter { key in vendor.absent.contains { Self.isField(key, of: $0) } }.count)
    }

    /// `key` is register `name`'s field or one of its enum companions (not another register that
    /// merely starts with the name, as NIBE's `priority_hot_water_opt` does).
    static func isField(_ key: String, of name: String) -> Bool {
        key == name || ["_state", "_value", "_label"].contains { key == name + $0 }
    }

    @Test("the metrics file drops a sentinel register's series, keeps the device up and its other series, and brings it back")
    func metricsFile() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: sim.ports[0], model: "idm_navigator_2"),
                                                  .init(id: "nibe1", port: sim.ports[1], model: "nibe_s1155")], interval: 0.3)
        let daemon = try harness.start()
        let cases = [("idm1", sim.ports[0], Self.vendors[0]), ("nibe1", sim.ports[1], Self.vendors[1])]
        func all(_ m: PromMetrics, present: Bool) -> Bool {
            cases.allSatisfy { id, _, vendor in
                let labels = ["heatpump_id": id]
                return DaemonHarness.up(m, id) == 1 && vendor.present.allSatisfy { m.has("heatpump_\($0)", labels) }
                    && vendor.absent.allSatisfy { m.has("heatpump_\($0)", labels) == present }
            }
        }
        _ = try await DaemonHarness.waitFor(daemon, "every register exported") { all($0, present: true) }
        for (_, port, vendor) in cases {
            for name in vendor.absent { try sim.command("absent \(port) 1 \(name) on") }
        }
        let m = try await DaemonHarness.waitFor(daemon, "sentinel registers gone, the rest still there") { all($0, present: false) }
        #expect(!m.has("heatpump_hp_operating_mode_state", ["heatpump_id": "idm1"]), "no enum state for a sentinel")
        #expect(m.value("heatpump_poll_errors_total", ["heatpump_id": "idm1"]) == 0, "a sentinel is no error")
        for (_, port, vendor) in cases {
            for name in vendor.absent { try sim.command("absent \(port) 1 \(name) off") }
        }
        _ = try await DaemonHarness.waitFor(daemon, "values back") { all($0, present: true) }
        #expect(daemon.process.stop() == 0)
    }
}
