import Foundation
import Testing
import TestSupport
import Yams

/// hpsim (five heat pumps of four models) → hpmanagerd → a real influxd, and the daemon's metrics
/// file → node_exporter's textfile collector → a real Prometheus on deploy/prometheus's config and rules.
struct DashboardStack {
    let influx: InfluxServer
    let sim: SimulatorProcess
    let daemon: DaemonProcess
    let nodeExporter: NodeExporter
    let prometheus: PrometheusServer
    /// The central engines the daemon health dashboard's last row watches.
    let remoteWriteReceiver: PrometheusServer
    let broker: MosquittoServer
    let deviceIDs = ["nibe-1", "lux-1", "lux-2", "idm-1", "daikin-1"]
    static let database = "hpm"

    static func start() async throws -> DashboardStack {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE \(database)")
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "luxtronik:0:1,2", "--tcp", "idm:0", "--tcp", "daikin:0"])
        let devices: [DaemonHarness.Device] = [
            .init(id: "nibe-1", port: sim.ports[0], model: "nibe_s1155", name: "NIBE cellar", location: "Building A"),
            .init(id: "lux-1", port: sim.ports[1], unit: 1, model: "luxtronik_2_1", location: "Building B"),
            .init(id: "lux-2", port: sim.ports[1], unit: 2, model: "luxtronik_2_1", location: "Building B"),
            .init(id: "idm-1", port: sim.ports[2], model: "idm_navigator_2", location: "Building A"),
            .init(id: "daikin-1", port: sim.ports[3], model: "daikin_altherma", location: "Building C"),
        ]
        let dir = try TemporaryDirectory(prefix: "hpm-dashboards")
        let remoteWriteReceiver = try PrometheusServer(configuration: "global: {scrape_interval: 15s}\n", arguments: ["--web.enable-remote-write-receiver"])
        let broker = try MosquittoServer()
        // An always-raised rule, so that the fleet overview's active-alerts table has a row.
        let harness = try DaemonHarness(devices: devices, interval: 0.3, collectorKeys: "  batch_size: 50\n  batch_interval: 0.3", extraSections: """
        site:
          id: lab-1
          name: Test lab
          labels: {region: test}
        influxdb:
          url: \(influx.url)
          version: 1
          database: \(database)
          timeout: 2
          retry_interval: 1
          spool_path: \(dir.file("influx-spool.db"))
        remote_write:
          - name: central
            url: \(remoteWriteReceiver.url)/api/v1/write
            timeout: 2
            queue: {batch_send_deadline: 0.3}
            spool_path: \(dir.file("rw-spool.db"))
        mqtt:
          url: \(broker.url)
          client_id: hpm-dashboards
        alerts:
          - name: outdoor_reported
            register: outdoor_temp
            above: -100
            severity: info
        """, reuse: dir)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "all devices up, points sent") { m in
            devices.allSatisfy { DaemonHarness.up(m, $0.id) == 1 } && (m.value("hpmanager_influx_points_sent_total") ?? 0) >= 25
                && (m.value("hpmanager_remote_write_samples_sent_total") ?? 0) > 0 && m.value("hpmanager_mqtt_connected") == 1
                && (m.value("hpmanager_mqtt_messages_acknowledged_total") ?? 0) > 0
        }
        let nodeExporter = try NodeExporter(textfileDirectory: (harness.metricsPath as NSString).deletingLastPathComponent)
        let prometheus = try PrometheusServer(configuration: try prometheusConfiguration(target: "127.0.0.1:\(nodeExporter.port)"))
        let stack = DashboardStack(influx: influx, sim: sim, daemon: daemon, nodeExporter: nodeExporter, prometheus: prometheus,
                                   remoteWriteReceiver: remoteWriteReceiver, broker: broker)
        // Enough scrapes for rate() over 10 s, and every recording rule has run on two of them.
        let recordingRules = (try DeployFiles.yaml("deploy/prometheus/rules/hpmanager-recording.yml")["groups"] as? [[String: Any]] ?? [])
            .flatMap { $0["rules"] as? [[String: Any]] ?? [] }.compactMap { $0["record"] as? String }
        _ = try await eventually("Prometheus has rates and recorded series for every device", timeout: 20, interval: 0.25) { () -> Bool? in
            let rates = try stack.promSamples("rate(heatpump_polls_total[10s]) > 0")
            let recorded = try recordingRules.allSatisfy { try stack.promSamples($0) > 0 }
            return rates == devices.count && recorded ? true : nil
        }
        return stack
    }

    /// deploy/prometheus/prometheus.yml with the exporter's address, 1 s intervals and absolute rule paths.
    static func prometheusConfiguration(target: String) throws -> String {
        var config = try DeployFiles.yaml("deploy/prometheus/prometheus.yml")
        config["global"] = ["scrape_interval": "1s", "evaluation_interval": "1s"]
        config["rule_files"] = (config["rule_files"] as? [String] ?? []).map { DeployFiles.path("deploy/prometheus/" + $0) }
        var jobs = config["scrape_configs"] as? [[String: Any]] ?? []
        for i in jobs.indices where jobs[i]["job_name"] as? String == "hpmanager-textfile" {
            jobs[i]["static_configs"] = [["targets": [target]]]
        }
        config["scrape_configs"] = jobs
        return try Yams.dump(object: config)
    }

    /// Rows (all series together) of an InfluxQL query with at least one non-null value besides
    /// the time; a query error fails the test.
    func influxRows(_ query: String) throws -> Int {
        let json = try influx.query(query, db: Self.database)
        let results = json["results"] as? [[String: Any]] ?? []
        if let error = json["error"] ?? results.first?["error"] { throw DeployFiles.Failure(description: "InfluxQL error: \(error) in \(query)") }
        var rows = 0
        for s in results.first?["series"] as? [[String: Any]] ?? [] {
            let columns = s["columns"] as? [String] ?? []
            for row in s["values"] as? [[Any]] ?? [] {
                if zip(columns, row).contains(where: { $0.0 != "time" && !($0.1 is NSNull) }) { rows += 1 }
            }
        }
        return rows
    }

    /// Samples of an instant PromQL query whose value is a number (NaN, e.g. 0/0, is no data).
    /// - Parameter retry: whether an empty answer is asked again (`retryingWhileEmpty`); for
    ///   queries that must have data, not for trying each value of a variable.
    func promSamples(_ expr: String, retry: Bool = true) throws -> Int {
        let count = {
            try prometheus.query(expr).filter { item in
                let value = (item as? [String: Any])?["value"] as? [Any] ?? (item as? [Any]) ?? []
                return (value.last as? String).flatMap(Double.init).map { !$0.isNaN } ?? false
            }.count
        }
        return retry ? try retryingWhileEmpty(count) { $0 == 0 } : try count()
    }

    /// What Prometheus and the exporter see now, for a failure message: target health, the
    /// textfile collector's error flag and how many device series one direct scrape holds.
    func diagnostics() -> String {
        let scrape = try? nodeExporter.scrape()
        let textfileError = scrape?.value("node_textfile_scrape_error").map { "\($0)" } ?? "?"
        let upSeries = scrape.map { "\($0.values("heatpump_up", where: [:]).count)" } ?? "?"
        let inPrometheus = (try? prometheus.query("heatpump_up").count).map { "\($0)" } ?? "?"
        let withSite = (try? prometheus.query("heatpump_up{site!=\"\"}").count).map { "\($0)" } ?? "?"
        return "\(prometheus.targetsSummary()); exporter: node_textfile_scrape_error \(textfileError), \(upSeries) heatpump_up series; "
            + "Prometheus: \(inPrometheus) heatpump_up series, \(withSite) with a site"
    }

    /// Runs `query`; an empty answer is asked again every 0.5 s for at most 10 s (20 scrapes and
    /// rule evaluations at 1 s) before it counts as empty. On a loaded machine a 1 s scrape can time
    /// out, and Prometheus then marks every series stale; a recording rule evaluated in that gap
    /// writes staleness markers too, and its series stays empty until the rule runs again after a
    /// good scrape (seen under make test's load: the target up, every `heatpump_up` series there,
    /// the recorded `location:heatpump_up:sum` empty). A query that is really empty still fails.
    func retryingWhileEmpty<T>(_ query: () throws -> T, isEmpty: (T) -> Bool) throws -> T {
        var answer = try query()
        for _ in 0..<20 where isEmpty(answer) {
            usleep(500_000)  // on the harness threads (`.harnessThreads`), not the cooperative pool
            answer = try query()
        }
        return answer
    }

    /// The values of a query variable: `label_values(expr, label)` on Prometheus, or the InfluxQL
    /// query's `value` column (SHOW TAG VALUES) or first column (SHOW FIELD KEYS …).
    func variableValues(_ v: GrafanaDashboard.Variable) throws -> [String] {
        switch v.language {
        case .promQL:
            let inner = v.query.trimmingCharacters(in: .whitespaces)
            guard inner.hasPrefix("label_values("), inner.hasSuffix(")"), let comma = inner.lastIndex(of: ",") else {
                throw DeployFiles.Failure(description: "unsupported variable query \(v.query)")
            }
            let expr = String(inner[inner.index(inner.startIndex, offsetBy: 13)..<comma])
            let label = inner[inner.index(after: comma)..<inner.index(before: inner.endIndex)].trimmingCharacters(in: .whitespaces)
            let values = try retryingWhileEmpty {
                try prometheus.query(expr).compactMap { (($0 as? [String: Any])?["metric"] as? [String: Any])?[label] as? String }
            } isEmpty: { $0.isEmpty }
            return Array(Set(values)).sorted()
        case .influxQL:
            let json = try influx.query(v.query, db: Self.database)
            let series = (json["results"] as? [[String: Any]])?.first?["series"] as? [[String: Any]] ?? []
            var values: [String] = []
            for s in series {
                let columns = s["columns"] as? [String] ?? []
                let column = columns.firstIndex(of: "value") ?? 0
                for row in s["values"] as? [[Any]] ?? [] where column < row.count { if let value = row[column] as? String { values.append(value) } }
            }
            return values
        case nil:
            throw DeployFiles.Failure(description: "variable \(v.name) has no datasource")
        }
    }
}
