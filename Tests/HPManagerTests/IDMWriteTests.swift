import DeviceActor
import Drivers
import Foundation
import HPCore
import ModbusKit
import Testing
import TestSupport

/// IDM reads every register with FC04 and takes writes with FC16 at the same address
/// (`write_register_type: holding`), against hpsim's IDM profile which models that quirk.
@Suite("IDM writes (read FC04, write FC16)", .harnessThreads, .serialized)
struct IDMWriteTests {
    @Test("hpmanagerctl write dhw_setpoint / system_mode on IDM: FC16 at the FC04 address, verified, seen by the next poll")
    func writeThroughDaemon() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.3)
        let daemon = try harness.start()
        let labels = ["heatpump_id": "idm1"]
        _ = try await DaemonHarness.waitFor(daemon, "idm1 polled") { $0.value("heatpump_dhw_setpoint", labels) == 50 }

        var r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "dhw_setpoint", "55"])
        #expect(r.0 == 0 && r.1.contains("verified"), "\(r.1) \(r.2)")
        #expect(try sim.command("get \(port) 1 input 1032")["value"] as? Int == 55, "the FC04 register changed")
        _ = try await DaemonHarness.waitFor(daemon, "next poll reads 55") { $0.value("heatpump_dhw_setpoint", labels) == 55 }

        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "system_mode", "away"])
        #expect(r.0 == 0 && r.1.contains("verified"), "\(r.1) \(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "system_mode away") { $0.value("heatpump_system_mode", labels) == 2 && $0.has("heatpump_system_mode_state", labels.merging(["state": "away"]) { $1 }) }

        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "dhw_setpoint", "99"])
        #expect(r.0 == 1 && r.2.contains("above the maximum"), "still validated: \(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "outdoor_temp", "5"])
        #expect(r.0 == 1 && r.2.contains("read-only"), "\(r.2)")

        let stats = try sim.portStats(port)
        #expect(stats.requestsByFunction[16] == 2, "both writes went out as FC16: \(stats.requestsByFunction)")
        #expect(stats.requestsByFunction[3] == nil && stats.requestsByFunction[6] == nil, "never FC03/FC06: \(stats.requestsByFunction)")
        #expect(daemon.process.stop() == 0)
    }

    @Test("hpsim's IDM: FC16 at a writable input lands in FC04; read-only addresses and FC03 answer Illegal Data Address")
    func simulatorQuirk() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        _ = try await link.transact(.writeMultipleRegisters(address: 1005, values: [4]), unit: 1, timeout: 2)
        let reply = try await link.transact(.readInputRegisters(address: 1005, count: 1), unit: 1, timeout: 2)
        #expect(reply.reply == .registers([4]))
        for request: ModbusRequest in [.writeMultipleRegisters(address: 1000, values: [1, 2]), .writeSingleRegister(address: 1004, value: 1),
                                       .readHoldingRegisters(address: 1032, count: 1)] {
            await #expect(throws: ModbusError.self, "\(request)") {
                do {
                    _ = try await link.transact(request, unit: 1, timeout: 2)
                } catch let error as ModbusError {
                    #expect(error.isIllegalDataAddress, "\(request): \(error)")
                    throw error
                }
            }
        }
        #expect(try sim.command("get \(sim.ports[0]) 1 input 1000")["value"] as? Int != 1, "the refused write changed nothing")
    }

    @Test("hpmanagerd --check rejects a writable input register without write_register_type, with file:line")
    func checkFlagsUnwritable() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-unwritable")
        try dir.write("heatpumps.yml", "heatpumps:\n  - {id: a, model: m, modbus: {host: h}}\n")
        try dir.write("registers.yml", """
        models:
          m:
            registers:
              - {name: ok, address: 1, register_type: input, write_register_type: holding, access: read_write}
              - {name: setpoint, address: 2, register_type: input, access: read_write}

        """)
        let check = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", dir.path, "--check"])
        #expect(check.waitForExit(timeout: 30) == 78, "EX_CONFIG")
        usleep(100_000)
        let stderr = check.stderr.transcript.joined(separator: "\n")
        #expect(stderr.contains("registers.yml:5: models.m.registers[1].access: register \"setpoint\" is read_write but input registers can never be written"),
                "\(stderr)")
        #expect(!stderr.contains("registers[0]"), "write_register_type makes it writable: \(stderr)")
    }

    @Test("Built-in models: every writable register can be written; IDM's parameters are read as input, written as holding")
    func builtinWritable() throws {
        let config = try ConfigLoader(builtinModelFiles: BuiltinModels.files).load(
            files: ["heatpumps.yml": "heatpumps: []\n"])
        for model in config.models.values {
            for r in model.registers where r.access.isWritable {
                #expect(r.writeTable == .holding || r.writeTable == .coil, "\(model.name).\(r.name)")
            }
        }
        let idm = try #require(config.models["idm_navigator_2"])
        for (name, value) in [("system_mode", 4), ("dhw_setpoint", 50)] {
            let r = try #require(idm.registers.first { $0.name == name })
            #expect(r.registerType == .input && r.writeTable == .holding && r.writeMultiple, "\(name)")
            #expect(try RegisterEncoder.encode(r, text: "\(value)").payload == .words([UInt16(value)]), "\(name)")
        }
    }
}
