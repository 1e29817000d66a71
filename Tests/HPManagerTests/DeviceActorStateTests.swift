import DeviceActor
import Foundation
import HPCore
import Testing
import TestSupport

/// Device state and budgets of a real actor against a real hpsim.
@Suite("Device actor: misconfigured devices and the EEPROM budget", .harnessThreads, .serialized)
struct DeviceActorStateTests {
    @Test("a device whose every register answers Illegal Data Address is misconfigured (not up, one status change, logged once), and recovers when they answer")
    func everythingQuarantined() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let port = sim.ports[0]
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        // The matrix map has plain_100 at holding 213; 212-214 exist. Every one answers code 2 here.
        let registers = [212, 213, 214].map { RegisterDefinition(name: "r\($0)", address: $0) }
        for address in [212, 213, 214] { try sim.command("exception \(port) 1 holding \(address) 2") }
        let sink = RecordingSink()
        let logs = LogCapture()
        var collector = CollectorSettings()
        collector.quarantineRetry = 0.5
        let runtime = Fixtures.runtime(id: "wrongmap", port: port, registers: registers, interval: 0.2, collector: collector)
        let task = Fixtures.spawn(runtime, link: link, sink: sink, logs: logs)
        defer { task.cancel() }
        _ = try await eventually("several polls", timeout: 10) { sink.reports(for: "wrongmap").count >= 4 ? true : nil }
        let reports = sink.reports(for: "wrongmap")
        #expect(reports.allSatisfy { !$0.status.up && $0.samples.isEmpty && $0.status.state == .misconfigured }, "\(reports.map(\.status.state))")
        #expect(reports.last?.status.lastError?.contains("Illegal Data Address") == true)
        #expect(sink.statusChanges.filter { $0.state == .misconfigured }.count == 1, "one status change, not one per poll")
        #expect(logs.count(.error, containing: "misconfigured") == 1)

        for address in [212, 213, 214] { try sim.command("exception \(port) 1 holding \(address) 0") }
        let back = try await eventually("registers retried after quarantine_retry and up again", timeout: 10) {
            sink.reports(for: "wrongmap").last.flatMap { $0.status.up ? $0 : nil }
        }
        #expect(back.status.state == .polling && back.samples.count == 3)
    }

    @Test("concurrent writes to an EEPROM register: only the budget's worth (one) reaches the device")
    func eepromBudget() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let port = sim.ports[0]
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let register = RegisterDefinition(name: "setpoint", address: 213, access: .readWrite, eeprom: true)
        let runtime = Fixtures.runtime(id: "eeprom", port: port, registers: [register])
        let actor = DeviceActor(runtime: runtime, link: link, sink: RecordingSink(), board: DeviceStatusBoard(), logger: LogCapture().logger)
        let before = try sim.portStats(port).requestsByFunction[6] ?? 0
        let results = await withTaskGroup(of: Result<WriteResult, any Error>.self) { group in
            for value in 1...20 {
                group.addTask { do { return .success(try await actor.write(register: "setpoint", value: "\(value)")) } catch { return .failure(error) } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let passed = results.compactMap { try? $0.get() }
        #expect(passed.count == 1)
        let rejected = results.compactMap { if case .failure(let e as DeviceOperationError) = $0 { e } else { nil } }
        #expect(rejected.count == 19 && rejected.allSatisfy { $0.code == .eepromBudget && $0.message.contains("EEPROM") })
        #expect((try sim.portStats(port).requestsByFunction[6] ?? 0) - before == 1, "hpsim saw one write")
        let written = try #require(passed.first)
        #expect(try sim.command("get \(port) 1 holding 213")["value"] as? Int == Int(written.requested))
    }
}
