import Foundation
import Testing

/// deploy/prometheus: the scrape config, recording and alert rules pass Debian's promtool, and the
/// rules' unit tests (deploy/prometheus/tests) pass `promtool test rules`.
@Suite("Prometheus config and rules (promtool)", .harnessThreads)
struct PrometheusRulesTests {
    static let promtool = "/usr/bin/promtool"
    static let directory = DeployFiles.path("deploy/prometheus")

    @Test("promtool check config accepts prometheus.yml and finds its rule files")
    func checkConfig() throws {
        let (status, output) = try DeployFiles.run(Self.promtool, ["check", "config", "prometheus.yml"], in: Self.directory)
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS: 2 rule files found"), "\(output)")
    }

    @Test("promtool check rules accepts every rule file")
    func checkRules() throws {
        let files = try DeployFiles.files(in: "deploy/prometheus/rules", suffix: ".yml")
        #expect(files.count == 2)
        let (status, output) = try DeployFiles.run(Self.promtool, ["check", "rules"] + files, in: DeployFiles.root)
        #expect(status == 0, "\(output)")
    }

    @Test("promtool test rules: every alert fires and resolves as its unit test expects")
    func testRules() throws {
        let tests = try DeployFiles.files(in: "deploy/prometheus/tests", suffix: ".test.yml").map { String($0.dropFirst("deploy/prometheus/".count)) }
        #expect(!tests.isEmpty)
        let (status, output) = try DeployFiles.run(Self.promtool, ["test", "rules"] + tests, in: Self.directory)
        #expect(status == 0, "\(output)")
        #expect(output.contains("SUCCESS"), "\(output)")
    }

    /// The spool gauges (`hpmanager_*_spooled_*`) and broker connection gauges (`hpmanager_*_connected`)
    /// the sinks in Sources/Sinks export.
    static func sinkBacklogSeries() throws -> Set<String> {
        var names: Set<String> = []
        let sinks = DeployFiles.path("Sources/Sinks")
        let files = FileManager.default.enumerator(atPath: sinks)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        let pattern = try NSRegularExpression(pattern: #"DaemonMetric\("(hpmanager_[a-z_]*(spooled_[a-z]+|_connected))""#)
        for file in files {
            let text = try String(contentsOfFile: sinks + "/" + file, encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                if let range = Range(match.range(at: 1), in: text) { names.insert(String(text[range])) }
            }
        }
        #expect(names.count >= 3, "found \(names)")
        return names
    }

    @Test("the alerts the issue names exist, each covered by a unit test, with a severity and a summary")
    func alertsCovered() throws {
        let alerts = try DeployFiles.yaml("deploy/prometheus/rules/hpmanager-alerts.yml")
        let rules = (alerts["groups"] as? [[String: Any]] ?? []).flatMap { $0["rules"] as? [[String: Any]] ?? [] }
        let names = Set(rules.compactMap { $0["alert"] as? String })
        let required: Set = ["HeatPumpDown", "HeatPumpStale", "HeatPumpAlertActive", "HpmanagerSpoolGrowing", "HpmanagerLinkSaturated", "HpmanagerDown"]
        #expect(required.isSubset(of: names), "missing: \(required.subtracting(names))")
        var tested: Set<String> = []
        for file in try DeployFiles.files(in: "deploy/prometheus/tests", suffix: ".test.yml") {
            for test in try DeployFiles.yaml(file)["tests"] as? [[String: Any]] ?? [] {
                for case let alertTest as [String: Any] in test["alert_rule_test"] as? [Any] ?? [] {
                    // Covered = at least one evaluation where the alert is expected to fire.
                    if let name = alertTest["alertname"] as? String, !(alertTest["exp_alerts"] as? [Any] ?? []).isEmpty { tested.insert(name) }
                }
            }
        }
        #expect(names.subtracting(tested).isEmpty, "alerts without a firing unit test: \(names.subtracting(tested))")
        // Every durable queue a sink exports (a spool gauge, the MQTT connection) has an alert that watches it.
        let expressions = rules.compactMap { $0["expr"] as? String }.joined(separator: "\n")
        for watched in try Self.sinkBacklogSeries() {
            #expect(expressions.contains(watched), "no alert watches \(watched)")
        }
        for rule in rules {
            let labels = rule["labels"] as? [String: Any] ?? [:]
            let annotations = rule["annotations"] as? [String: Any] ?? [:]
            // HeatPumpAlertActive carries the severity of the daemon's own rule (a label of the series).
            #expect(labels["severity"] != nil || rule["alert"] as? String == "HeatPumpAlertActive", "\(rule["alert"] ?? "?") has no severity")
            #expect(annotations["summary"] != nil, "\(rule["alert"] ?? "?") has no summary")
        }
    }
}
