import CurlKit
import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The daemon writing to a real influxd (Debian's InfluxDB 1.6) started by the test.
@Suite("InfluxDB sink against a real influxd", .serialized)
struct InfluxTests {
    static func harness(_ devices: [DaemonHarness.Device], influx: InfluxServer, db: String = "hpm") throws -> DaemonHarness {
        try influx.query("CREATE DATABASE \(db)")
        var harness = try DaemonHarness(devices: devices, interval: 0.3, collectorKeys: "  batch_size: 50\n  batch_interval: 0.3")
        let spool = harness.dir.file("state/influx-spool.db")
        harness = try DaemonHarness(devices: devices, interval: 0.3, collectorKeys: "  batch_size: 50\n  batch_interval: 0.3", extraSections: """
        influxdb:
          url: \(influx.url)
          version: 1
          database: \(db)
          timeout: 2
          retry_interval: 1
          spool_path: \(spool)
        """, reuse: harness.dir)
        return harness
    }

    static func count(_ influx: InfluxServer, _ id: String, field: String = "supply_temp", db: String = "hpm") throws -> Int {
        let rows = try influx.select("SELECT COUNT(\(field)) FROM heatpump_metrics WHERE heat_pump_id = '\(id)'", db: db)
        return (rows.first?["count"] as? Int) ?? 0
    }

    /// Successful polls of `id` according to the daemon's own counters.
    static func successfulPolls(_ m: PromMetrics, _ id: String) -> Int {
        Int((m.value("heatpump_polls_total", ["heatpump_id": id]) ?? 0) - (m.value("heatpump_poll_errors_total", ["heatpump_id": id]) ?? 0))
    }

    /// Takes the devices offline and waits until InfluxDB acknowledged every successful poll
    /// (`alreadySent`/`earlierPolls` carry a previous daemon run's numbers).
    static func quiesce(_ daemon: DaemonProcess, sim: SimulatorProcess, ids: [String],
                        alreadySent: Double = 0, earlierPolls: Int = 0) async throws -> PromMetrics {
        for port in sim.ports { try sim.command("down \(port)") }
        _ = try await DaemonHarness.waitFor(daemon, "devices down") { m in ids.allSatisfy { DaemonHarness.up(m, $0) == 0 } }
        return try await DaemonHarness.waitFor(daemon, "influx sink drained", timeout: 20) { m in
            let polls = ids.reduce(earlierPolls) { $0 + successfulPolls(m, $1) }
            return m.value("hpmanager_influx_spooled_points") == 0 && m.value("hpmanager_sink_queue_depth", ["sink": "influxdb"]) == 0
                && (m.value("hpmanager_influx_points_sent_total") ?? 0) + alreadySent >= Double(polls)
        }
    }

    @Test("every poll arrives once, with the contract's tags, field types and poll timestamps")
    func endToEnd() async throws {
        let influx = try InfluxServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "luxtronik:0"])
        let harness = try Self.harness([
            .init(id: "nibe", port: sim.ports[0], model: "nibe_s1155", name: "NIBE, cellar", location: "Haus 2"),
            .init(id: "lux", port: sim.ports[1], model: "luxtronik_2_1"),
        ], influx: influx)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "points sent") { ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 10 }
        let m = try await Self.quiesce(daemon, sim: sim, ids: ["nibe", "lux"])
        #expect(try Self.count(influx, "nibe") == Self.successfulPolls(m, "nibe"))
        #expect(try Self.count(influx, "lux", field: "flow_temp") == Self.successfulPolls(m, "lux"))
        #expect(m.value("hpmanager_influx_points_sent_total") == Double(Self.successfulPolls(m, "nibe") + Self.successfulPolls(m, "lux")))
        // Tags exactly as HPManager writes them (escaped comma and space survive).
        let rows = try influx.select("SELECT * FROM heatpump_metrics WHERE heat_pump_id = 'nibe' ORDER BY time DESC LIMIT 1", db: "hpm")
        let row = try #require(rows.first)
        #expect(row["name"] as? String == "NIBE, cellar" && row["location"] as? String == "Haus 2" && row["model"] as? String == "nibe_s1155")
        #expect(abs((row["brine_in_temp"] as? Double ?? 0) - 2.1) < 1e-9)
        // Timestamp = the poll's time: the newest point matches the device's last successful poll.
        let lastSuccess = try #require(DaemonHarness.lastSuccess(m, "nibe"))
        let time = try #require(row["time"] as? Int)
        #expect(abs(Double(time) / 1e9 - lastSuccess) < 0.001)
        // Field types: floats, integers, strings (enum labels) and their numbers.
        let fields = try influx.select("SHOW FIELD KEYS FROM heatpump_metrics", db: "hpm")
        let types = Dictionary(uniqueKeysWithValues: fields.compactMap { r in (r["fieldKey"] as? String).map { ($0, r["fieldType"] as? String ?? "") } })
        #expect(types["supply_temp"] == "float")
        #expect(types["alarm_number"] == "integer")
        #expect(types["operation_mode"] == "string" && types["operation_mode_value"] == "integer")
        #expect(types["room_temp"] == nil, "not-available values are not written")
    }

    @Test("outage: points of the outage are spooled and arrive exactly once when influxd returns")
    func outage() async throws {
        let influx = try InfluxServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness([.init(id: "a", port: sim.ports[0])], influx: influx)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "points sent") { ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 3 }
        influx.stop()
        _ = try await DaemonHarness.waitFor(daemon, "points spooled during the outage") { ($0.value("hpmanager_influx_spooled_points") ?? 0) >= 6 }
        try await Task.sleep(for: .seconds(1))  // several batch intervals into the outage
        try influx.start()
        let m = try await Self.quiesce(daemon, sim: sim, ids: ["a"])
        #expect(try Self.count(influx, "a") == Self.successfulPolls(m, "a"))
        #expect((m.value("hpmanager_influx_write_failures_total") ?? 0) >= 1)
        #expect(m.value("hpmanager_sink_dropped_total", ["sink": "influxdb"]) == 0)
    }

    @Test("a daemon restart in the middle of an outage replays the spool")
    func restartDuringOutage() async throws {
        let influx = try InfluxServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness([.init(id: "a", port: sim.ports[0])], influx: influx)
        let first = try harness.start()
        _ = try await DaemonHarness.waitFor(first, "points sent") { ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 3 }
        influx.stop()
        _ = try await DaemonHarness.waitFor(first, "points spooled") { ($0.value("hpmanager_influx_spooled_points") ?? 0) >= 4 }
        first.process.signal(SIGTERM)
        #expect(first.process.waitForExit(timeout: 10) == 0)
        let firstRun = try #require(first.metrics())
        let firstPolls = Self.successfulPolls(firstRun, "a")
        let second = try harness.start()
        _ = try await DaemonHarness.waitFor(second, "second run polling") { ($0.value("heatpump_polls_total", ["heatpump_id": "a"]) ?? 0) >= 3 }
        try influx.start()
        let m = try await Self.quiesce(second, sim: sim, ids: ["a"], alreadySent: firstRun.value("hpmanager_influx_points_sent_total") ?? 0,
                                       earlierPolls: firstPolls)
        #expect(try Self.count(influx, "a") == firstPolls + Self.successfulPolls(m, "a"), "every point of both runs, once")
        #expect(second.log.contains("replaying spooled points"))
    }

    @Test("lines InfluxDB rejects (field type conflict) go to the dead-letter table; the rest arrive")
    func deadLetters() async throws {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE hpm")
        // Make luxtronik's electric_power a string field in the current shard, so its float values conflict.
        let client = try CurlHTTPClient(options: .init(timeout: 5))
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let seeded = try client.post(url: "\(influx.url)/write?db=hpm", body: Array("heatpump_metrics,heat_pump_id=seed electric_power=\"x\" \(now)".utf8), headers: [])
        #expect(seeded.status == 204)
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "luxtronik:0"])
        let harness = try Self.harness([.init(id: "nibe", port: sim.ports[0]), .init(id: "lux", port: sim.ports[1], model: "luxtronik_2_1")], influx: influx)
        let daemon = try harness.start()
        // nibe's points still arrive while lux's are rejected.
        _ = try await DaemonHarness.waitFor(daemon, "rejections and deliveries") {
            ($0.value("hpmanager_influx_points_rejected_total") ?? 0) >= 2 && ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 2
        }
        #expect(try Self.count(influx, "lux", field: "flow_temp") == 0)
        #expect(try Self.count(influx, "nibe") >= 2)
        daemon.process.stop()
        let spool = try SQLiteDatabase(path: harness.dir.file("state/influx-spool.db"))
        let letters = try spool.query("SELECT status, message, lines FROM dead_letters")
        #expect(letters.count >= 2)
        #expect(letters.allSatisfy { $0[0].int == 400 && ($0[1].string ?? "").contains("field type conflict") && ($0[2].string ?? "").contains("heat_pump_id=lux") })
    }
}
