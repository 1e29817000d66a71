import Foundation
import Testing
import TestSupport

/// Write classes through hpmanagerd against hpsim's IDM profile: the EEPROM budget (persisted across a
/// restart), unchanged values skipped, and the write-only pulse.
@Suite("Write classes end to end (IDM)", .harnessThreads, .serialized)
struct WriteClassEndToEndTests {
    @Test("EEPROM: unchanged skipped, second write refused [eeprom_budget] with nothing on the wire, still refused after a restart")
    func eepromBudget() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.3,
                                        extraSections: "writes:\n  eeprom_min_interval: 10m\n  eeprom_daily_cap: 5\n")
        var daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "idm1 polled") { $0.value("heatpump_dhw_setpoint", ["heatpump_id": "idm1"]) == 50 }
        func writes() throws -> Int { try sim.portStats(port).requestsByFunction[16] ?? 0 }

        var r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "system_mode", "automatic"])
        #expect(r.0 == 0 && r.1.contains("unchanged"), "\(r.1) \(r.2)")
        #expect(try writes() == 0, "an unchanged EEPROM value is not written")

        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "dhw_setpoint", "55"])
        #expect(r.0 == 0 && r.1.contains("verified"), "\(r.1) \(r.2)")
        #expect(try writes() == 1)

        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "dhw_setpoint", "56"])
        #expect(r.0 == 1 && r.2.contains("[eeprom_budget]") && r.2.contains("one EEPROM write per 10 min"), "\(r.2)")
        #expect(try writes() == 1, "refused: nothing reached the wire")
        #expect(try sim.command("get \(port) 1 input 1032")["value"] as? Int == 55)
        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "system_mode", "away"])
        #expect(r.0 == 0 && r.1.contains("verified"), "another register has its own budget: \(r.2)")
        _ = try await DaemonHarness.waitFor(daemon, "writes counted by outcome") { m in
            m.value("hpmanager_writes_total", ["result": "eeprom_budget"]) == 1 && m.value("hpmanager_writes_total", ["result": "unchanged"]) == 1
                && m.value("hpmanager_writes_total", ["result": "verified"]) == 2
        }

        #expect(daemon.process.stop() == 0)
        daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "idm1 polled again") { $0.value("heatpump_dhw_setpoint", ["heatpump_id": "idm1"]) == 55 }
        let before = try writes()
        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "--json", "idm1", "dhw_setpoint", "57"])
        #expect(r.0 == 1 && r.2.contains("[eeprom_budget]"), "the budget survived the restart: \(r.1) \(r.2)")
        #expect(try writes() == before)
        #expect(daemon.process.stop() == 0)
    }

    @Test("pulse: the fixed value is sent without a read-back (value optional); any other value is refused")
    func pulse() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "idm1", port: port, model: "idm_navigator_2")], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "idm1 polled") { $0.value("heatpump_dhw_setpoint", ["heatpump_id": "idm1"]) == 50 }

        var r = try ControlSocketTests.ctl(harness.socketPath, ["write", "--json", "idm1", "error_acknowledge"])
        #expect(r.0 == 0 && r.1.contains("\"outcome\" : \"sent\""), "\(r.1) \(r.2)")
        #expect(try sim.command("get \(port) 1 input 1999")["value"] as? Int == 1, "the pulse reached the device")
        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "error_acknowledge", "1"])
        #expect(r.0 == 0 && r.1.contains("sent 1 (no read-back)"), "\(r.1) \(r.2)")
        r = try ControlSocketTests.ctl(harness.socketPath, ["write", "idm1", "error_acknowledge", "0"])
        #expect(r.0 == 1 && r.2.contains("pulse register: it only takes 1") && r.2.contains("[rejected]"), "\(r.2)")
        let stats = try sim.portStats(port)
        #expect(stats.requestsByFunction[16] == 2, "two pulses, the refused one never sent: \(stats.requestsByFunction)")
        #expect(daemon.process.stop() == 0)
    }

    @Test("a reload that changes writes: is logged as taking effect only after a restart (the budget in force is the one loaded at start)")
    func reloadWarnsAboutWrites() async throws {
        let sim = try SimulatorProcess(["--tcp", "idm:0"])
        let devices: [DaemonHarness.Device] = [.init(id: "idm1", port: sim.ports[0], model: "idm_navigator_2")]
        let harness = try DaemonHarness(devices: devices, interval: 0.3, extraSections: "writes:\n  eeprom_daily_cap: 5\n")
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "idm1 polled") { $0.value("heatpump_up", ["heatpump_id": "idm1"]) == 1 }
        _ = try DaemonHarness(devices: devices, interval: 0.3, extraSections: "writes:\n  eeprom_daily_cap: 50\n", reuse: harness.dir)
        let r = try ControlSocketTests.ctl(harness.socketPath, ["reload"])
        #expect(r.0 == 0, "\(r.2)")
        _ = try await eventually("restart-only warning names writes", timeout: 5) {
            daemon.log.split(separator: "\n").contains { $0.contains("take effect only after a daemon restart") && $0.contains("writes") } ? true : nil
        }
        #expect(daemon.process.stop() == 0)
    }
}
