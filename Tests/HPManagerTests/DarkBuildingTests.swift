import DeviceActor
import Foundation
import HPCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A building that goes dark (controllers accept connections but never answer) must cost the
/// other buildings nothing: functional assertions on poll counts, not timing micro-benchmarks.
@Suite("Dark buildings", .harnessThreads, .serialized)
struct DarkBuildingTests {
    static let registers = Array(DeviceActorTests.scattered.prefix(5))

    /// Polls of `id` whose timestamps fall in [from, to).
    static func polls(_ sink: RecordingSink, _ id: String, from: Double, to: Double) -> [PollReport] {
        sink.reports(for: id).filter { $0.timestamp >= from && $0.timestamp < to }
    }

    @Test("60 dark devices on 2 event-loop threads: every healthy device is still polled in every interval")
    func darkOutnumberThreads() async throws {
        let darkCount = 60, healthyCount = 10
        let sim = try SimulatorProcess(Array(repeating: ["--tcp", "matrix:0"], count: darkCount + healthyCount).flatMap { $0 })
        let dark = Array(sim.ports[0..<darkCount]), healthy = Array(sim.ports[darkCount...])
        for port in dark { _ = try sim.command("hang \(port) * on") }
        let sink = RecordingSink()
        var links: [ModbusLink] = []
        var tasks: [Task<Void, any Error>] = []
        defer { tasks.forEach { $0.cancel() }; links.forEach { $0.close() } }
        // HPManager's documented defaults for the dark ones: each wait would pin a thread for 20 s.
        for (i, port) in dark.enumerated() {
            let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
            links.append(link)
            tasks.append(Fixtures.spawn(Fixtures.runtime(id: "dark\(i)", port: port, registers: Self.registers, interval: 0.5, timeout: 5, retries: 3),
                                        link: link, sink: sink))
        }
        for (i, port) in healthy.enumerated() {
            let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
            links.append(link)
            tasks.append(Fixtures.spawn(Fixtures.runtime(id: "ok\(i)", port: port, registers: Self.registers, interval: 0.5), link: link, sink: sink))
        }
        let from = Date().timeIntervalSince1970 + 1
        try await Task.sleep(for: .seconds(5))  // a 4 s measuring window after a 1 s start-up
        let to = from + 4
        for i in 0..<healthyCount {
            let reports = Self.polls(sink, "ok\(i)", from: from, to: to)
            #expect(reports.count >= 7, "ok\(i): \(reports.count) polls in 8 intervals")
            #expect(reports.allSatisfy { $0.status.up && $0.samples.count == Self.registers.count })
            let gaps = zip(reports.dropFirst(), reports).map { $0.timestamp - $1.timestamp }
            #expect((gaps.max() ?? 0) < 2 * 0.5, "ok\(i): largest gap \(gaps.max() ?? 0) s (waiting behind a dark device would cost 5 s or more)")
        }
        #expect(sink.all.filter { $0.device.id.hasPrefix("dark") }.allSatisfy { !$0.status.up })
    }

    @Test("one dark unit behind a live gateway: its neighbours are polled every interval on the shared connection")
    func darkUnitBehindGateway() async throws {
        let sim = try SimulatorProcess(["--tcp", "matrix:0:1,2,3,4"])
        let port = sim.ports[0]
        _ = try sim.command("hang \(port) 3 on")
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: port), loop: Fixtures.loops.next())
        defer { link.close() }
        let sink = RecordingSink()
        var tasks: [Task<Void, any Error>] = []
        defer { tasks.forEach { $0.cancel() } }
        // Each device on the gateway counts as a user of its link (the registry does this in the daemon).
        for unit in [1, 2, 3, 4] {
            link.addUserForTesting()
            let timeout = unit == 3 ? 0.2 : 1.0
            tasks.append(Fixtures.spawn(Fixtures.runtime(id: "u\(unit)", port: port, unit: unit, registers: Self.registers, interval: 0.4,
                                                         timeout: timeout, retries: 3), link: link, sink: sink))
        }
        let from = Date().timeIntervalSince1970 + 1
        try await Task.sleep(for: .seconds(5))
        let to = from + 4
        for unit in [1, 2, 4] {
            let reports = Self.polls(sink, "u\(unit)", from: from, to: to)
            #expect(reports.count >= 9, "u\(unit): \(reports.count) polls in 10 intervals")
            #expect(reports.allSatisfy { $0.status.up })
            let gaps = zip(reports.dropFirst(), reports).map { $0.timestamp - $1.timestamp }
            // At most one of the dark unit's deadlines (0.2 s) per poll, never its retries.
            #expect((gaps.max() ?? 0) < 0.4 + 0.2 + 0.3, "u\(unit): largest gap \(gaps.max() ?? 0) s (its retries would add 0.6 s more)")
        }
        let dead = sink.reports(for: "u3")
        #expect(!dead.isEmpty && dead.allSatisfy { !$0.status.up })
        // Probing: after the first failure the dark unit costs one short probe per backoff step, not full polls.
        #expect((dead.last?.status.backoff ?? 0) > 0)
        #expect(try sim.portStats(port).connectionsAccepted == 1, "the gateway connection survived the dark unit")
    }

    @Test("SIGTERM with 150 dark devices (5 s timeouts, 3 retries): the daemon exits within 2 s and marks every device down")
    func shutdownWithDarkDevices() async throws {
        let darkCount = 150
        let sim = try SimulatorProcess(Array(repeating: ["--tcp", "matrix:0"], count: darkCount).flatMap { $0 } + ["--tcp", "nibe:0"])
        for port in sim.ports.prefix(darkCount) { _ = try sim.command("hang \(port) * on") }
        var devices = sim.ports.prefix(darkCount).enumerated().map { i, port in
            DaemonHarness.Device(id: "dark\(i)", port: port, timeout: 5, retries: 3)
        }
        devices.append(.init(id: "alive", port: sim.ports[darkCount]))
        let harness = try DaemonHarness(devices: devices, interval: 1)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "alive up while 150 devices wait", timeout: 15) { DaemonHarness.up($0, "alive") == 1 }
        let start = Date()
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.waitForExit(timeout: 10) == 0)
        let took = Date().timeIntervalSince(start)
        #expect(took < 2, "exit took \(took) s")
        let last = try #require(daemon.metrics())
        for d in devices { #expect(DaemonHarness.up(last, d.id) == 0, "\(d.id)") }
    }
}
