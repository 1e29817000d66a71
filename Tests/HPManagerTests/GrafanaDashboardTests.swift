import Foundation
import Testing
import TestSupport
import Yams

/// deploy/grafana: provisioning and dashboards fit together, and every dashboard query returns data
/// from the real stack (hpsim → hpmanagerd → influxd, and → metrics file → node_exporter → Prometheus).
@Suite("Grafana dashboards against real InfluxDB and Prometheus", .harnessThreads, .serialized)
struct GrafanaDashboardTests {
    static let dashboardFiles = ["fleet-overview", "heatpump-detail", "comparison", "daemon-health"].map { "deploy/grafana/dashboards/\($0).json" }

    static func provisionedDatasources() throws -> [String: String] {
        let yaml = try DeployFiles.yaml("deploy/grafana/provisioning/datasources/hpmanager.yml")
        var byUID: [String: String] = [:]
        for d in yaml["datasources"] as? [[String: Any]] ?? [] {
            if let uid = d["uid"] as? String { byUID[uid] = d["type"] as? String ?? "" }
        }
        return byUID
    }

    @Test("datasources: InfluxQL v1, InfluxQL v2 with the token from the environment, Prometheus; dashboards only use them via variables")
    func provisioning() throws {
        let yaml = try DeployFiles.yaml("deploy/grafana/provisioning/datasources/hpmanager.yml")
        let sources = yaml["datasources"] as? [[String: Any]] ?? []
        let v2 = try #require(sources.first { $0["uid"] as? String == "hpmanager-influxdb-v2" })
        #expect((v2["jsonData"] as? [String: Any])?["httpHeaderName1"] as? String == "Authorization")
        #expect((v2["secureJsonData"] as? [String: Any])?["httpHeaderValue1"] as? String == "Token ${INFLUXDB_TOKEN}", "the token comes from the environment")
        #expect(try Self.provisionedDatasources() == ["hpmanager-influxdb-v1": "influxdb", "hpmanager-influxdb-v2": "influxdb", "hpmanager-prometheus": "prometheus"])
        let provider = try DeployFiles.yaml("deploy/grafana/provisioning/dashboards/hpmanager.yml")
        #expect((provider["providers"] as? [[String: Any]])?.first?["type"] as? String == "file")

        let datasources = try Self.provisionedDatasources()
        var uids: Set<String> = []
        for file in Self.dashboardFiles {
            let d = try GrafanaDashboard(file: file)
            #expect(uids.insert(d.uid).inserted, "\(file): duplicate uid \(d.uid)")
            #expect(!d.queries.isEmpty, "\(file) has no queries")
            // Datasources are picked by a datasource variable whose default is a provisioned one.
            for v in d.variables where v.type == "datasource" {
                #expect(datasources[v.current ?? ""] == v.plugin, "\(file): variable \(v.name) defaults to \(v.current ?? "nothing")")
            }
            let dsVariables = Set(d.variables.filter { $0.type == "datasource" }.map { "${\($0.name)}" })
            for p in d.panelDatasources { #expect(dsVariables.contains(p.uid), "\(file) panel \(p.panel): datasource \(p.uid)") }
            for q in d.queries {
                #expect(dsVariables.contains(q.datasourceUID) && !q.text.isEmpty, "\(file) \(q.panel)/\(q.refID)")
            }
        }
    }

    @Test("every InfluxQL and PromQL query of the dashboards returns data from the real stack; the rules evaluate without errors")
    func queriesReturnData() async throws {
        let stack = try await DashboardStack.start()
        let influxValues = ["timeFilter": "time > now() - 10m", "__interval": "1s"]
        let promValues = ["__rate_interval": "10s", "__interval": "1s", "__range": "1m"]
        var promExpressions: [String] = []

        for file in Self.dashboardFiles {
            let dashboard = try GrafanaDashboard(file: file)
            // Resolve the variables by running their own queries, as Grafana does.
            var fixed: [String: String] = [:]
            var perValue: (name: String, values: [String])?
            for v in dashboard.variables where v.type == "query" {
                // A variable's query may use the variables before it (`$site`), as Grafana chains them.
                let values = try stack.variableValues(v.resolving(fixed))
                if values.isEmpty { Issue.record("\(file): variable \(v.name) (\(v.query)) has no values [\(stack.diagnostics())]") }
                if v.multi {
                    fixed[v.name] = v.allValue ?? GrafanaDashboard.regexAlternation(values)
                } else if let current = v.current {
                    #expect(values.contains(current), "\(file): \(v.name) default \(current) not among \(values)")
                    fixed[v.name] = current
                } else {
                    perValue = (v.name, values)  // single choice without a default: every value is tried
                }
            }
            let choices = perValue.map { p in p.values.map { [p.name: $0] } } ?? [[:]]
            var valuesWithData: Set<String> = []
            for q in dashboard.queries {
                // With one choice the query must have data, so an empty answer is asked again; with a
                // value per choice a choice may be empty, and the choices are asked again only if all were.
                var answered: [String] = []
                for retry in choices.count == 1 ? [true] : [false, true] where answered.isEmpty {
                    for choice in choices {
                        let values = fixed.merging(choice) { $1 }.merging(q.language == .influxQL ? influxValues : promValues) { $1 }
                        let text = GrafanaDashboard.substitute(q.text, values)
                        #expect(text.range(of: #"\$(\{|[A-Za-z_])|\[\["#, options: .regularExpression) == nil, "\(file) \(q.panel)/\(q.refID): unresolved variable in \(text)")
                        let rows: Int
                        switch q.language {
                        case .influxQL: rows = try stack.influxRows(text)
                        case .promQL:
                            if !retry || choices.count == 1 { promExpressions.append(text) }
                            rows = try stack.promSamples(text, retry: retry)
                        }
                        if rows > 0 { answered.append(choice.values.first ?? "") }
                    }
                }
                valuesWithData.formUnion(answered)
                if answered.isEmpty {
                    Issue.record("\(file) panel \(q.panel)/\(q.refID) returned no data: \(q.text) [\(stack.diagnostics())]")
                }
            }
            if let perValue {
                #expect(Set(perValue.values) == valuesWithData, "\(file): \(perValue.name) values without any data: \(Set(perValue.values).subtracting(valuesWithData))")
            }
        }

        // promtool parses every dashboard expression (as recording rules of a scratch file).
        let scratch = try TemporaryDirectory(prefix: "hpm-promql")
        let rules = promExpressions.enumerated().map { ["record": "dashboard:q\($0.offset)", "expr": $0.element] }
        try scratch.write("dashboards.yml", try Yams.dump(object: ["groups": [["name": "dashboards", "rules": rules]]]))
        let (status, output) = try DeployFiles.run("/usr/bin/promtool", ["check", "rules", scratch.file("dashboards.yml")])
        #expect(status == 0, "\(output)")

        // The committed recording and alert rules ran against the real series without errors, and
        // every recording rule produced data.
        let groups = try stack.prometheus.ruleGroups()
        for rule in groups.flatMap({ $0["rules"] as? [[String: Any]] ?? [] }) {
            #expect(rule["health"] as? String == "ok", "rule \(rule["name"] ?? "?"): \(rule["health"] ?? "?") \(rule["lastError"] ?? "")")
            if rule["type"] as? String == "recording", let name = rule["name"] as? String {
                #expect(try stack.promSamples(name) > 0, "recording rule \(name) has no data")
            }
        }
        #expect(groups.count == 3, "the recording group and both alert groups are loaded")
    }
}
