import Foundation
import HPCore
import Testing
import TestSupport

/// The daemon feeding real remote-write receivers — Debian's `prometheus` (remote-write receiver
/// on) and `victoria-metrics` — queried afterwards for every sample.
@Suite("Prometheus remote write against real receivers", .harnessThreads, .serialized)
struct RemoteWriteTests {
    static let site = """
    site:
      id: zrh-01
      name: Zürich Seefeld
      labels: {region: eu-central}
    """

    static func harness(_ devices: [DaemonHarness.Device], url: String, queue: String = "{max_samples_per_send: 50, batch_send_deadline: 0.3, min_backoff: 0.2, max_backoff: 1}")
        throws -> DaemonHarness {
        let dir = try TemporaryDirectory(prefix: "hpm-rw")
        return try DaemonHarness(devices: devices, interval: 0.3, extraSections: """
        \(site)
        remote_write:
          - name: central
            url: \(url)
            timeout: 2
            headers: {X-Scope-OrgID: site-zrh}
            queue: \(queue)
            spool_path: \(dir.path)/rw-spool.db
        """, reuse: dir)
    }

    /// Takes the devices offline and waits until the receiver acknowledged every sample queued so far.
    static func quiesce(_ daemon: DaemonProcess, sim: SimulatorProcess, ids: [String]) async throws -> PromMetrics {
        for port in sim.ports { try sim.command("down \(port)") }
        _ = try await DaemonHarness.waitFor(daemon, "devices down") { m in ids.allSatisfy { DaemonHarness.up(m, $0) == 0 } }
        return try await DaemonHarness.waitFor(daemon, "remote write drained", timeout: 20) { m in
            m.value("hpmanager_remote_write_spooled_samples", ["remote_name": "central"]) == 0
                && m.value("hpmanager_sink_queue_depth", ["sink": "remote_write"]) == 0
        }
    }

    /// Waits until `count()` reaches `expected`, then returns what it reached (more means a duplicate).
    static func arrived(_ what: String, expected: Int, _ count: @escaping @Sendable () throws -> Int) async throws -> Int {
        do {
            return try await eventually(what, timeout: 10, interval: 0.2) {
                let n = try count()
                return n >= expected ? n : nil
            }
        } catch {
            return try count()
        }
    }

    @Test("Prometheus: every successful poll's samples arrive with the site's labels and the poll's timestamp")
    func prometheus() async throws {
        let prometheus = try PrometheusServer(configuration: "global:\n  scrape_interval: 1m\n", arguments: ["--web.enable-remote-write-receiver"])
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "luxtronik:0"])
        let harness = try Self.harness([
            .init(id: "nibe", port: sim.ports[0], model: "nibe_s1155", name: "NIBE, cellar", location: "Haus 2"),
            .init(id: "lux", port: sim.ports[1], model: "luxtronik_2_1"),
        ], url: "\(prometheus.url)/api/v1/write")
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "samples sent") { ($0.value("hpmanager_remote_write_samples_sent_total") ?? 0) >= 200 }
        let m = try await Self.quiesce(daemon, sim: sim, ids: ["nibe", "lux"])
        for (id, register) in [("nibe", "heatpump_supply_temp"), ("lux", "heatpump_flow_temp")] {
            let polls = InfluxTests.successfulPolls(m, id)
            let selector = "\(register){site=\"zrh-01\",region=\"eu-central\",heatpump_id=\"\(id)\"}"
            let got = try await Self.arrived("\(register) of \(id)", expected: polls) {
                try prometheus.rawSamples(selector).values.reduce(0) { $0 + $1.count }
            }
            #expect(got == polls, "\(register) of \(id): \(got) samples for \(polls) successful polls")
            let up = try prometheus.rawSamples("heatpump_up{site=\"zrh-01\",heatpump_id=\"\(id)\"}").values.flatMap { $0 }
            #expect(up.filter { $0.1 == 1 }.count == polls, "heatpump_up 1 once per successful poll of \(id)")
        }
        let series = try prometheus.rawSamples("heatpump_supply_temp{heatpump_id=\"nibe\"}")
        let (labels, values) = try #require(series.first)
        #expect(labels["name"] == "NIBE, cellar" && labels["location"] == "Haus 2" && labels["model"] == "nibe_s1155" && labels["manufacturer"] != nil)
        let lastSuccess = try #require(DaemonHarness.lastSuccess(m, "nibe"))
        let newest = try #require(values.map(\.0).max())
        #expect(abs(newest - lastSuccess) < 0.002, "sample time = poll time")
        #expect(m.value("hpmanager_remote_write_samples_rejected_total", ["remote_name": "central"]) == 0)
        #expect(m.value("hpmanager_sink_dropped_total", ["sink": "remote_write"]) == 0)
    }

    @Test("VictoriaMetrics: every sample arrives exactly once (it keeps duplicates, so a re-send would show)")
    func victoriaMetrics() async throws {
        let vm = try VictoriaMetricsServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness([.init(id: "a", port: sim.ports[0])], url: vm.remoteWriteURL)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "samples sent") { ($0.value("hpmanager_remote_write_samples_sent_total") ?? 0) >= 200 }
        let m = try await Self.quiesce(daemon, sim: sim, ids: ["a"])
        let polls = InfluxTests.successfulPolls(m, "a")
        let selector = "heatpump_supply_temp{site=\"zrh-01\",region=\"eu-central\",heatpump_id=\"a\"}"
        let got = try await Self.arrived("supply_temp samples", expected: polls) { try vm.export(selector).values.reduce(0) { $0 + $1.count } }
        #expect(got == polls)
        let samples = try vm.export(selector).values.flatMap { $0 }
        #expect(Set(samples.map(\.timestampMs)).count == samples.count, "no timestamp twice")
    }

    @Test("outage and restart: samples of the outage are spooled, survive a daemon restart and all arrive; only a request lost in flight is re-sent")
    func outageAndRestart() async throws {
        let vm = try VictoriaMetricsServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness([.init(id: "a", port: sim.ports[0])], url: vm.remoteWriteURL)
        let first = try harness.start()
        _ = try await DaemonHarness.waitFor(first, "samples sent") { ($0.value("hpmanager_remote_write_samples_sent_total") ?? 0) >= 100 }
        vm.stop()
        _ = try await DaemonHarness.waitFor(first, "samples spooled") { ($0.value("hpmanager_remote_write_spooled_samples") ?? 0) >= 200 }
        first.process.signal(SIGTERM)
        #expect(first.process.waitForExit(timeout: 10) == 0)
        let firstRun = try #require(first.metrics())
        let firstPolls = InfluxTests.successfulPolls(firstRun, "a")
        #expect((firstRun.value("hpmanager_remote_write_failures_total") ?? 0) >= 1)
        let second = try harness.start()
        _ = try await DaemonHarness.waitFor(second, "second run polling") { ($0.value("heatpump_polls_total", ["heatpump_id": "a"]) ?? 0) >= 3 }
        try vm.start()
        let m = try await Self.quiesce(second, sim: sim, ids: ["a"])
        let expected = firstPolls + InfluxTests.successfulPolls(m, "a")
        let selector = "heatpump_supply_temp{site=\"zrh-01\",heatpump_id=\"a\"}"
        let got = try await Self.arrived("samples of both runs", expected: expected) {
            Set(try vm.export(selector).values.flatMap { $0 }.map(\.timestampMs)).count
        }
        #expect(got == expected, "every sample of both runs arrived")
        // VictoriaMetrics keeps duplicates, so this shows every re-send: the only one allowed is the request
        // in flight when the receiver went away (it may have stored it without answering; remote write is
        // at-least-once, and Prometheus or Mimir store such a re-send once).
        let samples = try vm.export(selector).values.flatMap { $0 }
        #expect(samples.count - Set(samples.map(\.timestampMs)).count <= 1, "\(samples.count) samples for \(expected) polls: nothing else sent twice")
        #expect(second.log.contains("replaying spooled samples"))
        #expect(m.value("hpmanager_sink_dropped_total", ["sink": "remote_write"]) == 0)
    }
}
