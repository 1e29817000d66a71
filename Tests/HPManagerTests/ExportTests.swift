import Foundation
import Testing
import TestSupport

@Suite("Exports: node_exporter scrape and the InfluxDB v2 API", .harnessThreads, .serialized)
struct ExportTests {
    @Test("a real node_exporter (textfile collector only) serves our series with the right labels and values")
    func nodeExporter() async throws {
        let sim = try SimulatorProcess(["--tcp", "luxtronik:0"])
        let harness = try DaemonHarness(devices: [.init(id: "lux", port: sim.ports[0], model: "luxtronik_2_1", name: "Lux \"1\"", location: "Roof")])
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "values") { $0.has("heatpump_outdoor_temp_avg", ["heatpump_id": "lux"]) }
        let exporter = try NodeExporter(textfileDirectory: (harness.metricsPath as NSString).deletingLastPathComponent)
        let scraped = try await eventually("scrape with our series", timeout: 10) { () -> PromMetrics? in
            let m = try exporter.scrape()
            return m.has("heatpump_up", ["heatpump_id": "lux"]) ? m : nil
        }
        #expect(scraped.value("node_textfile_scrape_error") == 0, "the file parses and has no timestamps")
        let labels = ["heatpump_id": "lux", "name": "Lux \"1\"", "location": "Roof", "model": "luxtronik_2_1", "manufacturer": "Alpha Innotec"]
        #expect(scraped.value("heatpump_up", labels) == 1)
        #expect(scraped.value("heatpump_outdoor_temp_avg", labels).map { abs($0 - 4.4) < 1e-9 } == true)
        #expect(scraped.has("hpmanager_build_info"))
        #expect(scraped.has("node_textfile_mtime_seconds", ["file": "hpmanager.prom"]) || scraped.has("node_textfile_mtime_seconds"))
    }

    @Test("InfluxDB v2: /api/v2/write with org, bucket, precision, token header and gzip body")
    func influxV2() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-v2")
        let server = try RecordingHTTPServer(directory: dir)
        try dir.write("token", "s3cr3t-token\n")
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3,
                                        collectorKeys: "  batch_interval: 0.3", extraSections: """
        influxdb:
          url: http://127.0.0.1:\(server.port)
          org: my org
          bucket: heat&pumps
          token_file: \(dir.file("token"))
          precision: s
          gzip: true
          spool_path: \(dir.file("spool.db"))
        """)
        let daemon = try harness.start()
        let requests = try await eventually("v2 writes", timeout: 10) { () -> [[String: Any]]? in
            let r = server.requests()
            return r.count >= 2 ? r : nil
        }
        daemon.process.stop()
        for request in requests {
            #expect(request["path"] as? String == "/api/v2/write?org=my%20org&bucket=heat%26pumps&precision=s")
            let headers = request["headers"] as? [String: String] ?? [:]
            #expect(headers["Authorization"] == "Token s3cr3t-token")
            #expect(headers["Content-Encoding"] == "gzip")
            let body = request["body"] as? String ?? ""
            for line in body.split(separator: "\n") {
                // The plain registers, then one line per climate system (its label as a tag).
                #expect(line.hasPrefix("heatpump_metrics,heat_pump_id=a,location=Lab,model=nibe_s1155,name=a ")
                        || line.hasPrefix("heatpump_metrics,heat_pump_id=a,location=Lab,model=nibe_s1155,name=a,climate_system=1 "), "\(line)")
                #expect(line.split(separator: " ").last.map { $0.count == 10 } == true, "second precision timestamp")
            }
        }
        #expect(!daemon.log.contains("s3cr3t"), "the token is never logged")
    }

    /// One device polled every 0.2 s, its points sent to an InfluxDB stand-in that always answers `status`.
    /// The caller keeps every returned value alive (they stop or delete themselves when released).
    static func daemonWithFailingInflux(status: Int, retryAfter: String = "") throws
        -> (RecordingHTTPServer, SimulatorProcess, DaemonProcess, TemporaryDirectory, DaemonHarness) {
        let dir = try TemporaryDirectory(prefix: "hpm-\(status)")
        let server = try RecordingHTTPServer(status: status, retryAfter: retryAfter, directory: dir)
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.2,
                                        collectorKeys: "  batch_interval: 0.2", extraSections: """
        influxdb:
          url: http://127.0.0.1:\(server.port)
          org: o
          bucket: b
          retry_interval: 1
          spool_path: \(dir.file("spool.db"))
        """)
        return (server, sim, try harness.start(), dir, harness)
    }

    @Test("429 with Retry-After: points are spooled and the next attempt waits as long as the server asked")
    func retryAfter() async throws {
        let (server, sim, daemon, dir, harness) = try Self.daemonWithFailingInflux(status: 429, retryAfter: "2")
        defer { withExtendedLifetime((sim, dir, harness)) {} }
        let attempts = try await eventually("two attempts", timeout: 10) { () -> [Double]? in
            let at = server.requests().compactMap { $0["at"] as? Double }
            return at.count >= 2 ? at : nil
        }
        #expect(attempts[1] - attempts[0] >= 1.9, "Retry-After 2 s honoured although retry_interval is 1 s")
        let m = try #require(daemon.metrics())
        #expect((m.value("hpmanager_influx_spooled_points") ?? 0) > 0 && (m.value("hpmanager_influx_write_failures_total") ?? 0) >= 1)
        #expect(m.value("hpmanager_influx_points_sent_total") == 0)
    }

    @Test("an outage spools each point exactly once (no batch spooled by the failed send and again by the round)")
    func spoolOnce() async throws {
        let (server, sim, daemon, dir, harness) = try Self.daemonWithFailingInflux(status: 503)
        defer { withExtendedLifetime((server, dir, harness)) {} }
        _ = try await DaemonHarness.waitFor(daemon, "a few failed sends") { ($0.value("hpmanager_influx_write_failures_total") ?? 0) >= 2 }
        try sim.command("down \(sim.ports[0])")
        let m = try await DaemonHarness.waitFor(daemon, "every successful poll spooled", timeout: 10) { m in
            DaemonHarness.up(m, "a") == 0 && m.value("hpmanager_sink_queue_depth", ["sink": "influxdb"]) == 0
                && (m.value("hpmanager_influx_spooled_points") ?? 0) >= Double(InfluxTests.successfulPolls(m, "a") * InfluxTests.pointsPerPoll("nibe_s1155"))
        }
        try await Task.sleep(for: .seconds(0.5))
        let settled = try #require(daemon.metrics())
        #expect(settled.value("hpmanager_influx_spooled_points") == Double(InfluxTests.successfulPolls(settled, "a") * InfluxTests.pointsPerPoll("nibe_s1155")),
                "spooled \(settled.value("hpmanager_influx_spooled_points") ?? -1) for \(InfluxTests.successfulPolls(settled, "a")) polls (first look: \(m.value("hpmanager_influx_spooled_points") ?? -1))")
    }
}
