import CurlKit
import Foundation
import HPCore
import SQLiteKit
import Testing
import TestSupport

/// The daemon writing to a real influxd (Debian's InfluxDB 1.6) started by the test.
@Suite("InfluxDB sink against a real influxd", .harnessThreads, .serialized)
struct InfluxTests {
    /// - Parameters:
    ///   - influxKeys: extra lines under `influxdb:` (indented by two spaces).
    ///   - registers: a registers.yml with models of the test's own.
    static func harness(_ devices: [DaemonHarness.Device], influx: InfluxServer, db: String = "hpm", influxKeys: String = "",
                        registers: String? = nil) throws -> DaemonHarness {
        try influx.query("CREATE DATABASE \(db)")
        var harness = try DaemonHarness(devices: devices, interval: 0.3, collectorKeys: "  batch_size: 50\n  batch_interval: 0.3")
        if let registers { try harness.dir.write("registers.yml", registers) }
        let spool = harness.dir.file("state/influx-spool.db")
        harness = try DaemonHarness(devices: devices, interval: 0.3, collectorKeys: "  batch_size: 50\n  batch_interval: 0.3", extraSections: """
        influxdb:
          url: \(influx.url)
          version: 1
          database: \(db)
          timeout: 2
          retry_interval: 1
          spool_path: \(spool)
        \(influxKeys)
        """, reuse: harness.dir)
        return harness
    }

    static func fieldTypes(_ influx: InfluxServer, db: String = "hpm") throws -> [String: String] {
        let fields = try influx.select("SHOW FIELD KEYS FROM heatpump_metrics", db: db)
        return Dictionary(uniqueKeysWithValues: fields.compactMap { r in (r["fieldKey"] as? String).map { ($0, r["fieldType"] as? String ?? "") } })
    }

    static func count(_ influx: InfluxServer, _ id: String, field: String = "supply_temp", db: String = "hpm") throws -> Int {
        let rows = try influx.select("SELECT COUNT(\(field)) FROM heatpump_metrics WHERE heat_pump_id = '\(id)'", db: db)
        return (rows.first?["count"] as? Int) ?? 0
    }

    /// Successful polls of `id` according to the daemon's own counters.
    static func successfulPolls(_ m: PromMetrics, _ id: String) -> Int {
        Int((m.value("heatpump_polls_total", ["heatpump_id": id]) ?? 0) - (m.value("heatpump_poll_errors_total", ["heatpump_id": id]) ?? 0))
    }

    /// InfluxDB points per successful poll of a model: one line, plus one per template instance a
    /// device has without a `config:` (NIBE S-series: climate system 1).
    static func pointsPerPoll(_ model: String) -> Int { model == "nibe_s1155" ? 2 : 1 }

    /// Takes the devices offline and waits until InfluxDB acknowledged every point of every successful
    /// poll (`alreadySent`/`earlierPolls` carry a previous daemon run's numbers; `models` names each
    /// id's model where it is not the harness default, nibe_s1155).
    static func quiesce(_ daemon: DaemonProcess, sim: SimulatorProcess, ids: [String], models: [String: String] = [:],
                        alreadySent: Double = 0, earlierPolls: Int = 0) async throws -> PromMetrics {
        for port in sim.ports { try sim.command("down \(port)") }
        _ = try await DaemonHarness.waitFor(daemon, "devices down") { m in ids.allSatisfy { DaemonHarness.up(m, $0) == 0 } }
        let first = ids.first.map { pointsPerPoll(models[$0] ?? "nibe_s1155") } ?? 1
        return try await DaemonHarness.waitFor(daemon, "influx sink drained", timeout: 20) { m in
            let points = ids.reduce(earlierPolls * first) { $0 + successfulPolls(m, $1) * pointsPerPoll(models[$1] ?? "nibe_s1155") }
            return m.value("hpmanager_influx_spooled_points") == 0 && m.value("hpmanager_sink_queue_depth", ["sink": "influxdb"]) == 0
                && (m.value("hpmanager_influx_points_sent_total") ?? 0) + alreadySent >= Double(points)
        }
    }

    @Test("every poll arrives once, with the contract's tags, field types and poll timestamps", arguments: [InfluxFieldTypes.float, .native])
    func endToEnd(_ fieldTypes: InfluxFieldTypes) async throws {
        let influx = try InfluxServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "luxtronik:0"])
        let harness = try Self.harness([
            .init(id: "nibe", port: sim.ports[0], model: "nibe_s1155", name: "NIBE, cellar", location: "Haus 2"),
            .init(id: "lux", port: sim.ports[1], model: "luxtronik_2_1"),
        ], influx: influx, influxKeys: fieldTypes == .native ? "  field_types: native" : "")
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "points sent") { ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 10 }
        let m = try await Self.quiesce(daemon, sim: sim, ids: ["nibe", "lux"], models: ["lux": "luxtronik_2_1"])
        #expect(try Self.count(influx, "nibe") == Self.successfulPolls(m, "nibe"))
        #expect(try Self.count(influx, "lux", field: "flow_temp") == Self.successfulPolls(m, "lux"))
        #expect(m.value("hpmanager_influx_points_sent_total") == Double(Self.successfulPolls(m, "nibe") * 2 + Self.successfulPolls(m, "lux")),
                "NIBE: a line and climate system 1's per poll")
        // Tags exactly as HPManager writes them (escaped comma and space survive).
        let rows = try influx.select("SELECT * FROM heatpump_metrics WHERE heat_pump_id = 'nibe' ORDER BY time DESC LIMIT 1", db: "hpm")
        let row = try #require(rows.first)
        #expect(row["name"] as? String == "NIBE, cellar" && row["location"] as? String == "Haus 2" && row["model"] as? String == "nibe_s1155")
        #expect(abs((row["brine_in_temp"] as? Double ?? 0) - 2.1) < 1e-9)
        // Timestamp = the poll's time: the newest point matches the device's last successful poll.
        let lastSuccess = try #require(DaemonHarness.lastSuccess(m, "nibe"))
        let time = try #require(row["time"] as? Int)
        #expect(abs(Double(time) / 1e9 - lastSuccess) < 0.001)
        // Field types: floats (HPManager's type for every number) or, with `native`, integers for
        // unscaled integer registers; strings for enum labels.
        let types = try Self.fieldTypes(influx)
        let integer = fieldTypes == .native ? "integer" : "float"
        #expect(types["supply_temp"] == "float")
        #expect(types["alarm_number"] == integer)
        #expect(types["operation_mode"] == "string" && types["operation_mode_value"] == integer)
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
        // InfluxDB would hide a point sent twice: the sink's own count of points (a poll's line, plus one
        // line per template instance, here NIBE climate system 1) must match what InfluxDB holds.
        let points = try influx.select("SELECT * FROM heatpump_metrics WHERE heat_pump_id = 'a'", db: "hpm").count
        #expect(points > Self.successfulPolls(m, "a"), "instance lines too")
        // (the metrics file may still show the count from before the last batch's answer)
        let sent = try? await DaemonHarness.waitFor(daemon, "sent count settled", timeout: 5) { ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= Double(points) }
        #expect(sent?.value("hpmanager_influx_points_sent_total") == Double(points), "each point sent once")
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

    /// Same register names with other scales and types in two models, and a uint64 above 2^63.
    static let mixedModels = """
    models:
      mix_scaled:
        manufacturer: Test
        registers:
          - {name: supply_temp, address: 5, register_type: input, data_type: int16, scale: 0.1}
          - {name: alarm_number, address: 1975, register_type: input, data_type: int16}
          - {name: meter, address: 100, register_type: input, data_type: uint64}
      mix_raw:
        manufacturer: Test
        registers:
          - {name: supply_temp, address: 5, register_type: input, data_type: int16}
          - {name: alarm_number, address: 1975, register_type: input, data_type: int16, scale: 0.1}
          - {name: meter, address: 100, register_type: input, data_type: uint64}
      solo:
        manufacturer: Test
        registers:
          - {name: electric_power, address: 5, register_type: input, data_type: int16, scale: 0.1}
    """

    @Test("a mixed fleet (one register name, other scales and types per model, a uint64 above 2^63): every point of every device arrives")
    func mixedFleet() async throws {
        let influx = try InfluxServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        try sim.command("set \(sim.ports[0]) 1 input 103 5")
        for word in 100...103 { try sim.command("set \(sim.ports[1]) 1 input \(word) 65535") }
        let harness = try Self.harness([.init(id: "scaled", port: sim.ports[0], model: "mix_scaled"), .init(id: "raw", port: sim.ports[1], model: "mix_raw")],
                                       influx: influx, registers: Self.mixedModels)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "points of both devices sent") { m in
            (m.value("hpmanager_influx_points_sent_total") ?? 0) >= 6 && Self.successfulPolls(m, "scaled") >= 3 && Self.successfulPolls(m, "raw") >= 3
        }
        let m = try await Self.quiesce(daemon, sim: sim, ids: ["scaled", "raw"], models: ["scaled": "mix_scaled", "raw": "mix_raw"])
        for id in ["scaled", "raw"] {
            for field in ["supply_temp", "alarm_number", "meter"] {
                #expect(try Self.count(influx, id, field: field) == Self.successfulPolls(m, id), "\(field) of \(id)")
            }
        }
        #expect(m.value("hpmanager_influx_points_rejected_total") == 0)
        #expect(try Self.fieldTypes(influx) == ["supply_temp": "float", "alarm_number": "float", "meter": "float"])
        let raw = try #require(try influx.select("SELECT LAST(meter) FROM heatpump_metrics WHERE heat_pump_id = 'raw'", db: "hpm").first)
        #expect((raw["last"] as? Double).map { abs($0 - 18_446_744_073_709_551_615.0) < 1e4 } == true, "2^64-1 as a float")
    }

    @Test("a bucket holding a field with another type: only that field is dropped (counted, logged once), the rest of each point arrives")
    func conflictingField() async throws {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE hpm")
        // Make electric_power a string field in the current shard, so the float values conflict.
        let client = try CurlHTTPClient(options: .init(timeout: 5))
        let now = Int64(Date().timeIntervalSince1970) * 1_000_000_000
        let seeded = try client.post(url: "\(influx.url)/write?db=hpm", body: Array("heatpump_metrics,heat_pump_id=seed electric_power=\"x\" \(now)".utf8), headers: [])
        #expect(seeded.status == 204)
        // What influxd itself answers to a conflicting point: the sink reads exactly this.
        let answer = try client.post(url: "\(influx.url)/write?db=hpm", body: Array("heatpump_metrics,heat_pump_id=probe electric_power=1.5,x=1.0 \(now)".utf8), headers: [])
        #expect(answer.status == 400)
        #expect(FieldTypeConflictProbe.names(answer.body, field: "electric_power"), "influxd's answer: \(answer.body)")

        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "luxtronik:0"])
        let harness = try Self.harness([.init(id: "nibe", port: sim.ports[0]), .init(id: "lux", port: sim.ports[1], model: "luxtronik_2_1"),
                                        .init(id: "solo", port: sim.ports[0], model: "solo")], influx: influx, registers: Self.mixedModels)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "deliveries and a dead letter") {
            ($0.value("hpmanager_influx_points_sent_total") ?? 0) >= 6 && ($0.value("hpmanager_influx_points_rejected_total") ?? 0) >= 1
        }
        for port in sim.ports { try sim.command("down \(port)") }
        let ids = ["nibe", "lux", "solo"]
        let m = try await DaemonHarness.waitFor(daemon, "every poll sent or dead-lettered", timeout: 20) { m in
            ids.allSatisfy { DaemonHarness.up(m, $0) == 0 } && m.value("hpmanager_sink_queue_depth", ["sink": "influxdb"]) == 0
                && m.value("hpmanager_influx_spooled_points") == 0
                && (m.value("hpmanager_influx_points_sent_total") ?? 0) + (m.value("hpmanager_influx_points_rejected_total") ?? 0)
                >= Double(Self.successfulPolls(m, "nibe") * 2 + Self.successfulPolls(m, "lux") + Self.successfulPolls(m, "solo"))
        }
        let luxPolls = Self.successfulPolls(m, "lux"), soloPolls = Self.successfulPolls(m, "solo")
        #expect(try Self.count(influx, "lux", field: "flow_temp") == luxPolls, "the rest of every lux point arrived")
        #expect(try Self.count(influx, "lux", field: "electric_power") == 0)
        #expect(try Self.count(influx, "nibe") == Self.successfulPolls(m, "nibe"))
        #expect(m.value("hpmanager_influx_fields_dropped_total", ["field": "electric_power"]) == Double(luxPolls + soloPolls))
        #expect(m.value("hpmanager_influx_points_rejected_total") == Double(soloPolls), "a point with nothing left is a dead letter")
        #expect(m.value("hpmanager_influx_dead_letters") == Double(soloPolls))
        let warnings = daemon.process.stderr.transcript.filter { $0.contains("holds this field with another type") }
        #expect(warnings.count == 1 && warnings.first?.contains("electric_power") == true, "logged once: \(warnings)")
        daemon.process.stop()
        let spool = try SQLiteDatabase(path: harness.dir.file("state/influx-spool.db"))
        let letters = try spool.query("SELECT status, message, lines FROM dead_letters")
        #expect(letters.count == soloPolls)
        #expect(letters.allSatisfy { $0[0].int == 400 && ($0[1].string ?? "").contains("field type conflict") && ($0[2].string ?? "").contains("heat_pump_id=solo") })
    }
}

/// Reads influxd's answer the way a user would: does it name the field?
enum FieldTypeConflictProbe {
    static func names(_ body: String, field: String) -> Bool {
        body.contains("field type conflict") && body.contains("input field \\\"\(field)\\\"")
    }
}
