import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// Device actors against a real hpsim over TCP: coalescing, quarantine, faults.
@Suite("Device actor against hpsim", .harnessThreads, .serialized)
struct DeviceActorTests {
    /// 40 registers in 4 clusters; inside a cluster gaps are 2 registers, between clusters > 100.
    static let scattered: [RegisterDefinition] = [300, 450, 600, 800].flatMap { base in
        (0..<10).map { RegisterDefinition(name: "r\(base + $0 * 3)", address: base + $0 * 3) }
    }

    /// Runs `runtime` until `condition` holds on the recorded reports, then stops it.
    static func run(_ runtime: DeviceRuntime, link: ModbusLink, sink: RecordingSink, logger: LogCapture = LogCapture(),
                    timeout: Double = 10, until condition: @escaping ([PollReport]) -> Bool) async throws {
        let task = Fixtures.spawn(runtime, link: link, sink: sink, logs: logger)
        defer { task.cancel() }
        _ = try await eventually("reports of \(runtime.device.id)", timeout: timeout) {
            condition(sink.reports(for: runtime.device.id)) ? true : nil
        }
    }

    @Test("a scattered 40-register map costs the minimal number of requests, counted by hpsim")
    func coalescing() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let port = sim.ports[0]
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let plan = ReadPlanner().plan(Self.scattered)
        #expect(plan.count == 4, "minimal for 4 clusters separated by more than max_gap")
        let executor = PollExecutor(unitID: 1, timeout: 2, registers: Self.scattered)
        for _ in 0..<3 {
            let before = try sim.portStats(port)
            let outcome = try await executor.execute(plan, on: link)
            let after = try sim.portStats(port)
            #expect(outcome.failure == nil && outcome.samples.count == 40)
            #expect(after.requestsTotal - before.requestsTotal == 4, "hpsim served 4 requests, not 40")
            #expect((after.requestsByFunction[3] ?? 0) - (before.requestsByFunction[3] ?? 0) == 4)
        }
        // The actor reports the same count per poll.
        let sink = RecordingSink()
        try await Self.run(Fixtures.runtime(id: "coalesce", port: port, registers: Self.scattered, interval: 0.3), link: link, sink: sink) { $0.count >= 2 }
        #expect(sink.reports(for: "coalesce").allSatisfy { $0.samples.count == 40 && $0.status.requestsPerPoll == 4 })
    }

    @Test("Illegal Data Address quarantines only the offending register; the rest still arrives")
    func quarantine() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let port = sim.ports[0]
        try sim.command("exception \(port) 1 holding 306 2")
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let sink = RecordingSink()
        let logs = LogCapture()
        let runtime = Fixtures.runtime(id: "quarantine", port: port, registers: Self.scattered, interval: 0.3)
        try await Self.run(runtime, link: link, sink: sink, logger: logs) { $0.count >= 4 }
        let reports = sink.reports(for: "quarantine")
        for report in reports {
            #expect(report.status.up)
            #expect(report.samples.count == 39)
            #expect(!report.samples.contains { $0.name == "r306" })
            #expect(report.status.quarantinedRegisters == ["r306"])
        }
        // After the first poll the plan routes around the hole: cluster 300 becomes two reads.
        #expect(reports.dropFirst().allSatisfy { $0.status.requestsPerPoll == 5 })
        #expect(reports[0].status.requestsPerPoll > 5, "the first poll bisected the failing group")
        #expect(logs.count(.warning, containing: "quarantined") == 1, "logged once, not every poll")
    }

    @Test("a killed device goes down, backs off and recovers within the backoff cap")
    func downAndUp() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let port = sim.ports[0]
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let sink = RecordingSink()
        let collector = Fixtures.quickBackoff(initial: 0.2, max: 1)
        let runtime = Fixtures.runtime(id: "flappy", port: port, registers: Array(Self.scattered.prefix(3)), interval: 0.3, collector: collector)
        let task = Fixtures.spawn(runtime, link: link, sink: sink)
        defer { task.cancel() }
        _ = try await eventually("first success", timeout: 5) { sink.all.last?.status.up == true ? true : nil }
        try sim.command("down \(port)")
        let downAt = Date()
        let failed = try await eventually("failure reported", timeout: 5) { sink.all.last.flatMap { $0.status.up ? nil : $0 } }
        #expect(failed.samples.isEmpty && failed.status.state == .backoff)
        #expect(Date().timeIntervalSince(downAt) < 2 * 0.3 + 0.5, "noticed within two intervals")
        try await Task.sleep(for: .seconds(2.5))  // several backoff rounds, capped at 1 s
        let errorsWhileDown = sink.all.last?.status.pollErrorsTotal ?? 0
        #expect(errorsWhileDown >= 3 && errorsWhileDown <= 12, "backs off instead of hammering: \(errorsWhileDown)")
        try sim.command("up \(port)")
        let upAt = Date()
        _ = try await eventually("recovery", timeout: 5) { sink.all.last?.status.up == true ? true : nil }
        #expect(Date().timeIntervalSince(upAt) <= 1 + 0.3 + 0.5, "recovered within the backoff cap")
    }

    @Test("a hung device never delays a device on another link")
    func hungDeviceIsolation() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0", "--tcp", "matrix:0"])
        let (hungPort, healthyPort) = (sim.ports[0], sim.ports[1])
        try sim.command("hang \(hungPort) * on")
        let hungLink = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: hungPort), loop: Fixtures.loops.next())
        let healthyLink = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: healthyPort), loop: Fixtures.loops.next())
        defer { hungLink.close(); healthyLink.close() }
        let sink = RecordingSink()
        let registers = Array(Self.scattered.prefix(5))
        let tasks = [
            Fixtures.spawn(Fixtures.runtime(id: "hung", port: hungPort, registers: registers, interval: 0.2, timeout: 3, retries: 2), link: hungLink, sink: sink),
            Fixtures.spawn(Fixtures.runtime(id: "healthy", port: healthyPort, registers: registers, interval: 0.2), link: healthyLink, sink: sink),
        ]
        defer { tasks.forEach { $0.cancel() } }
        try await Task.sleep(for: .seconds(3))
        let healthyReports = sink.reports(for: "healthy")
        #expect(healthyReports.count >= 12, "healthy device kept its 0.2 s schedule: \(healthyReports.count) polls in 3 s")
        let gaps = zip(healthyReports.dropFirst(), healthyReports).map { $0.timestamp - $1.timestamp }
        // Waiting behind the hung device would cost its 3 s timeout; scheduling jitter costs milliseconds.
        #expect((gaps.max() ?? 1) < 0.2 + 0.5, "largest gap between healthy polls: \(gaps.max() ?? -1)")
        #expect(healthyReports.allSatisfy { $0.status.up })
        #expect(sink.reports(for: "hung").allSatisfy { !$0.status.up })
    }

    @Test("watchdog: a link that stops answering is closed after repeated timeouts and reconnects")
    func watchdogReconnects() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let port = sim.ports[0]
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let sink = RecordingSink()
        let collector = Fixtures.quickBackoff(initial: 0.1, max: 0.3)
        let runtime = Fixtures.runtime(id: "wd", port: port, registers: Array(Self.scattered.prefix(2)), interval: 0.2, timeout: 0.3, collector: collector)
        let task = Fixtures.spawn(runtime, link: link, sink: sink)
        defer { task.cancel() }
        _ = try await eventually("first success", timeout: 5) { sink.all.last?.status.up == true ? true : nil }
        try sim.command("hang \(port) 1 on")
        _ = try await eventually("two timeouts", timeout: 5) { (sink.all.last?.status.pollErrorsTotal ?? 0) >= 2 ? true : nil }
        #expect(sink.all.last?.status.lastError?.contains("timed out") == true, "\(sink.all.last?.status.lastError ?? "")")
        try sim.command("hang \(port) 1 off")
        _ = try await eventually("recovery", timeout: 5) { sink.all.last?.status.up == true ? true : nil }
        // At least one re-open: on a loaded machine a 0.3 s deadline can pass again while the hang lasts.
        let accepted = try sim.portStats(port).connectionsAccepted
        #expect(accepted >= 2, "the silent connection was dropped and re-opened: \(accepted) connections")
    }

    @Test("injected latency shows in the poll duration without failing the poll")
    func latency() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0"])
        let port = sim.ports[0]
        try sim.command("latency \(port) 1 250")
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let sink = RecordingSink()
        try await Self.run(Fixtures.runtime(id: "slow", port: port, registers: Self.scattered, interval: 0.5), link: link, sink: sink) { $0.count >= 2 }
        for report in sink.reports(for: "slow") {
            #expect(report.status.up && report.samples.count == 40)
            #expect(report.status.pollDuration >= 4 * 0.25, "4 requests × 250 ms: \(report.status.pollDuration)")
        }
    }

    @Test("one hung unit behind a gateway neither drops the shared connection nor stalls its neighbour for long")
    func hungUnitBehindGateway() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0:1,2"])
        let port = sim.ports[0]
        try sim.command("hang \(port) 2 on")
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let sink = RecordingSink()
        let registers = Array(Self.scattered.prefix(2))
        let tasks = [
            Fixtures.spawn(Fixtures.runtime(id: "good", port: port, unit: 1, registers: registers, interval: 0.3), link: link, sink: sink),
            Fixtures.spawn(Fixtures.runtime(id: "dead", port: port, unit: 2, registers: registers, interval: 0.3, timeout: 0.2, retries: 1), link: link, sink: sink),
        ]
        defer { tasks.forEach { $0.cancel() } }
        _ = try await eventually("dead unit failed twice", timeout: 5) { (sink.reports(for: "dead").last?.status.pollErrorsTotal ?? 0) >= 2 ? true : nil }
        try await Task.sleep(for: .seconds(1))
        #expect(sink.reports(for: "good").count >= 4 && sink.reports(for: "good").allSatisfy { $0.status.up })
        #expect(try sim.portStats(port).connectionsAccepted == 1, "the gateway connection survived the dead unit's timeouts")
    }
}
