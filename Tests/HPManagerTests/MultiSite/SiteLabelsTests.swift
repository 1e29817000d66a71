import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

/// `site:` on every output: the metrics file (and so HTTP /metrics), InfluxDB points, and the
/// same line protocol fed to VictoriaMetrics.
@Suite("site labels on every output", .harnessThreads, .serialized)
struct SiteLabelsTests {
    static let site = SiteSettings(id: "zrh-01", name: "Zürich \"Seefeld\"", labels: [.init(name: "region", value: "eu central")])
    static let siteYAML = """
    site:
      id: zrh-01
      name: Zürich Seefeld
      labels: {region: eu-central, tier: "gold plant"}
    """

    /// Every sample line of an exposition, as (series text, labels).
    static func sampleLines(_ text: String) -> [(String, [String: String])] {
        PromMetrics(text).samples.map { ($0.name, $0.labels) }
    }

    @Test("the metrics file: site and its labels on every series (device, register, template, daemon), hpmanager_site_info, promtool clean")
    func metricsFile() throws {
        let dir = try TemporaryDirectory()
        let sink = MetricsFileSink(path: dir.file("out.prom"), interval: .seconds(1), version: "test", site: Self.site, logger: Logger(label: "t"))
        sink.updateModels(["m": ModelDefinition(name: "m", registers: [RegisterDefinition(name: "mode", address: 0, unit: "enum", enumValues: [1: "on"])])])
        let now = Date().timeIntervalSince1970
        let device = DeviceLabels(id: "hp-1", name: "Boiler", location: "Cellar", model: "m", manufacturer: "ACME")
        sink.publish(PollReport(device: device, timestamp: now, samples: [
            Sample(register: 0, name: "mode", value: .int(1), label: "on", bits: [0]),
            Sample(register: 1, name: "flow_temp", value: .double(30), instance: SeriesInstance(series: "circuit_flow_temp", labels: [.init(name: "circuit", value: "A")])),
            Sample(register: 2, name: "serial", value: .string("S1")),
        ], status: DeviceStatus(state: .polling, up: true, lastSuccess: now, pollInterval: 1)))
        let text = sink.render(now: now)
        let lines = Self.sampleLines(text)
        #expect(lines.count > 20)
        for (name, labels) in lines {
            #expect(labels["site"] == "zrh-01" && labels["region"] == "eu central", "\(name) \(labels)")
        }
        #expect(text.contains(#"hpmanager_site_info{site="zrh-01",region="eu central",site_name="Zürich \"Seefeld\""} 1"#))
        #expect(text.contains(#"heatpump_circuit_flow_temp{site="zrh-01",region="eu central",heatpump_id="hp-1""#))
        let (status, output) = try Promtool.check(text)
        #expect(status == 0, "\(output)")
        // Without a site: no site label anywhere (single-site installs keep their series).
        let plain = MetricsFileSink(path: dir.file("plain.prom"), interval: .seconds(1), version: "test", logger: Logger(label: "t"))
        plain.publish(PollReport(device: device, timestamp: now, samples: [], status: DeviceStatus(state: .polling, up: true, pollInterval: 1)))
        let plainText = plain.render(now: now)
        #expect(!plainText.contains("site") && plainText.contains("hpmanager_build_info"))
    }

    @Test("line protocol: site and its labels are tags of every line")
    func lineProtocol() throws {
        let device = DeviceLabels(id: "hp-1", name: "Boiler", location: "Cellar", model: "m", manufacturer: "ACME")
        let report = PollReport(device: device, timestamp: 1_700_000_000, samples: [
            Sample(register: 0, name: "t", value: .double(1)),
            Sample(register: 1, name: "flow_temp", value: .double(30), instance: SeriesInstance(series: "circuit_flow_temp", labels: [.init(name: "circuit", value: "A")])),
        ], status: DeviceStatus(up: true))
        let text = try #require(LineProtocol.line(report, precision: .s, siteTags: Self.site.seriesLabels))
        let lines = text.split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines { #expect(line.contains(",site=zrh-01,region=eu\\ central"), "\(line)") }
    }

    /// A daemon with a site writing line protocol to `url` (InfluxDB 1.x or VictoriaMetrics).
    static func harness(_ sim: SimulatorProcess, influx: String) throws -> DaemonHarness {
        let dir = try TemporaryDirectory(prefix: "hpm-site")
        return try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3, collectorKeys: "  batch_size: 50\n  batch_interval: 0.3",
                                 extraSections: """
        \(siteYAML)
        influxdb:
        \(influx)
          timeout: 2
          retry_interval: 1
          spool_path: \(dir.file("influx-spool.db"))
        """, reuse: dir)
    }

    @Test("end to end: the daemon's metrics file carries the site on every series and passes promtool; influxd stores the site tags on every point")
    func daemonToInfluxd() async throws {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE hpm")
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness(sim, influx: "  url: \(influx.url)\n  version: 1\n  database: hpm")
        let daemon = try harness.start()  // `harness` keeps the config directory alive
        _ = try await DaemonHarness.waitFor(daemon, "points sent") { ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 5 }
        let text = try String(contentsOfFile: daemon.metricsPath, encoding: .utf8)
        for (name, labels) in Self.sampleLines(text) {
            #expect(labels["site"] == "zrh-01" && labels["region"] == "eu-central" && labels["tier"] == "gold plant", "\(name)")
        }
        #expect(text.contains(#"hpmanager_site_info{site="zrh-01",region="eu-central",tier="gold plant",site_name="Zürich Seefeld"} 1"#))
        let (status, output) = try Promtool.check(text)
        #expect(status == 0, "\(output)")
        let m = try await InfluxTests.quiesce(daemon, sim: sim, ids: ["a"])
        let rows = try influx.select("SELECT COUNT(supply_temp) FROM heatpump_metrics WHERE site = 'zrh-01' AND region = 'eu-central' AND tier = 'gold plant'", db: "hpm")
        #expect((rows.first?["count"] as? Int) == InfluxTests.successfulPolls(m, "a"))
        #expect(try InfluxTests.count(influx, "a") == InfluxTests.successfulPolls(m, "a"), "no point without the tags")
    }

    @Test("the Influx sink feeds VictoriaMetrics unchanged (v1 /write and v2 /api/v2/write): every point arrives once, with the site tags",
          arguments: [1, 2])
    func influxToVictoriaMetrics(_ version: Int) async throws {
        let vm = try VictoriaMetricsServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let keys = version == 1 ? "  url: \(vm.url)\n  version: 1\n  database: hpm" : "  url: \(vm.url)\n  version: 2\n  org: o\n  bucket: hpm\n  token: unused"
        let harness = try Self.harness(sim, influx: keys)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "points sent") { ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 10 }
        let m = try await InfluxTests.quiesce(daemon, sim: sim, ids: ["a"])
        let polls = InfluxTests.successfulPolls(m, "a")
        // VictoriaMetrics names a field `<measurement>_<field>` and turns tags into labels.
        let selector = "heatpump_metrics_supply_temp{site=\"zrh-01\",region=\"eu-central\",heat_pump_id=\"a\"}"
        let got = try await RemoteWriteTests.arrived("supply_temp points", expected: polls) { try vm.export(selector).values.reduce(0) { $0 + $1.count } }
        #expect(got == polls)
        let samples = try vm.export(selector).values.flatMap { $0 }
        #expect(Set(samples.map(\.timestampMs)).count == samples.count, "no point twice")
        let lastSuccess = try #require(DaemonHarness.lastSuccess(m, "a"))
        let newest = try #require(samples.map(\.timestampMs).max())
        #expect(abs(Double(newest) / 1000 - lastSuccess) < 0.002, "point time = poll time")
    }
}
