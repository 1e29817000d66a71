import Foundation

/// A dashboard JSON file of deploy/grafana/dashboards as the tests read it: its template variables
/// and every query of every panel (rows' nested panels included).
struct GrafanaDashboard {
    enum Language: String { case influxQL, promQL }

    struct Query {
        let panel: String
        let refID: String
        let language: Language
        let text: String
        let datasourceUID: String
    }

    struct Variable {
        let name: String
        let type: String
        /// The variable's own query (`label_values(…)` or InfluxQL), empty for datasource variables.
        let query: String
        let language: Language?
        let multi: Bool
        let allValue: String?
        /// The single value it starts with, if the JSON sets one.
        let current: String?
        /// For `type: datasource`: the plugin (`prometheus`, `influxdb`).
        let plugin: String?

        /// The same variable with earlier variables' values substituted into its query.
        func resolving(_ values: [String: String]) -> Variable {
            Variable(name: name, type: type, query: GrafanaDashboard.substitute(query, values), language: language, multi: multi,
                     allValue: allValue, current: current, plugin: plugin)
        }
    }

    let file: String
    let uid: String
    let title: String
    let variables: [Variable]
    let queries: [Query]
    /// Every panel (rows excluded) with its datasource uid, for the static checks.
    let panelDatasources: [(panel: String, uid: String, type: String)]

    init(file: String) throws {
        self.file = file
        let json = try DeployFiles.json(file)
        uid = json["uid"] as? String ?? ""
        title = json["title"] as? String ?? ""
        var variables: [Variable] = []
        for v in (json["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] {
            let datasource = v["datasource"] as? [String: Any]
            let query: String
            if let q = v["query"] as? [String: Any] { query = q["query"] as? String ?? "" } else { query = v["query"] as? String ?? "" }
            let type = v["type"] as? String ?? ""
            let current = (v["current"] as? [String: Any])?["value"] as? String
            variables.append(Variable(name: v["name"] as? String ?? "", type: type, query: type == "datasource" ? "" : query,
                                      language: Self.language(datasource?["type"] as? String),
                                      multi: (v["multi"] as? Bool ?? false) || (v["includeAll"] as? Bool ?? false),
                                      allValue: v["allValue"] as? String, current: current == "$__all" ? nil : current,
                                      plugin: type == "datasource" ? query : nil))
        }
        self.variables = variables
        var queries: [Query] = []
        var panels: [(String, String, String)] = []
        func visit(_ list: [[String: Any]]) {
            for p in list {
                if p["type"] as? String == "row" { visit(p["panels"] as? [[String: Any]] ?? []); continue }
                let title = p["title"] as? String ?? "?"
                let ds = p["datasource"] as? [String: Any] ?? [:]
                panels.append((title, ds["uid"] as? String ?? "", ds["type"] as? String ?? ""))
                for t in p["targets"] as? [[String: Any]] ?? [] {
                    let tds = t["datasource"] as? [String: Any] ?? ds
                    let uid = tds["uid"] as? String ?? ""
                    let ref = t["refId"] as? String ?? "?"
                    switch tds["type"] as? String {
                    case "influxdb": queries.append(Query(panel: title, refID: ref, language: .influxQL, text: t["query"] as? String ?? "", datasourceUID: uid))
                    case "prometheus": queries.append(Query(panel: title, refID: ref, language: .promQL, text: t["expr"] as? String ?? "", datasourceUID: uid))
                    default: queries.append(Query(panel: title, refID: ref, language: .promQL, text: "", datasourceUID: uid))
                    }
                }
            }
        }
        visit(json["panels"] as? [[String: Any]] ?? [])
        self.queries = queries
        panelDatasources = panels.map { (panel: $0.0, uid: $0.1, type: $0.2) }
    }

    static func language(_ type: String?) -> Language? {
        switch type {
        case "influxdb": .influxQL
        case "prometheus": .promQL
        default: nil
        }
    }

    /// `$name`, `${name}` and `[[name]]` replaced by `values[name]` (Grafana's three spellings).
    static func substitute(_ text: String, _ values: [String: String]) -> String {
        var out = text
        // Longest names first, so `$__rate_interval` is not read as `$__rate` + text.
        for (name, value) in values.sorted(by: { $0.key.count > $1.key.count }) {
            out = out.replacingOccurrences(of: "${\(name)}", with: value)
            out = out.replacingOccurrences(of: "[[\(name)]]", with: value)
            out = out.replacingOccurrences(of: "$\(name)", with: value)
        }
        return out
    }

    /// Grafana's rendering of several values in a regex (`=~ /^$v$/`, `=~"$v"`): `(a|b)`, each escaped.
    static func regexAlternation(_ values: [String]) -> String {
        let special = Set("\\^$.|?*+()[]{}/")
        let escaped = values.map { v in String(v.flatMap { special.contains($0) ? ["\\", $0] : [$0] }) }
        return escaped.count == 1 ? escaped[0] : "(" + escaped.joined(separator: "|") + ")"
    }
}
