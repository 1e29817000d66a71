import ArgumentParser
import ControlProtocol
import Foundation

extension HPManagerCtl {
    /// `hpmanagerctl settings get|set KEY=VALUE…|reset KEY…`: the live settings the HTTP settings page edits.
    struct Settings: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or change the settings that apply live (poll interval, InfluxDB, alert rules).",
            discussion: """
            get: every live key, its value and where it comes from (collector.yml or runtime).
            set KEY=VALUE…: values are JSON (10, "text", [ … ]); anything that is not JSON is taken as a string.
              All or nothing: one bad or not-live key and nothing changes. Changes survive restarts; an edit of
              the same key in collector.yml followed by a reload or restart wins over them.
            reset KEY…: back to collector.yml's value.
            Keys: collector.poll_interval, collector.batch_size, collector.batch_interval, influxdb.url, influxdb.org,
            influxdb.bucket, influxdb.database, influxdb.token_file (the token is never sent over the socket), alerts.
            """)
        @OptionGroup var connection: Connection
        @Argument(help: "get, set or reset.") var action: String = "get"
        @Argument(help: "KEY=VALUE pairs (set) or KEYs (reset).") var items: [String] = []

        func validate() throws {
            switch action {
            case "get": guard items.isEmpty else { throw ValidationError("get takes no arguments") }
            case "set":
                guard !items.isEmpty else { throw ValidationError("set needs KEY=VALUE") }
                for item in items where !item.contains("=") { throw ValidationError("\(item): expected KEY=VALUE") }
            case "reset": guard !items.isEmpty else { throw ValidationError("reset needs at least one KEY") }
            default: throw ValidationError("unknown action \(action); expected get, set or reset")
            }
        }

        func run() throws {
            var args: [String: JSONValue] = ["client": .string(auditClient())]
            switch action {
            case "set":
                args["action"] = .string("set")
                args["set"] = .object(Dictionary(items.map(Self.pair), uniquingKeysWith: { _, last in last }))
            case "reset":
                args["action"] = .string("set")
                args["reset"] = .array(items.map(JSONValue.string))
            default:
                args["action"] = .string("get")
            }
            let result = try connection.call("settings", args)
            connection.show(result) { r in
                var text = Self.render(r)
                if let changed = r["changed"]?.array {
                    text = (changed.isEmpty ? "nothing changed" : "changed: \(Output.text(.array(changed)))") + "\n" + text
                }
                return text
            }
        }

        /// `key=value`: the value as JSON when it parses, else as a string.
        static func pair(_ item: String) -> (String, JSONValue) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0])
            let raw = parts.count > 1 ? String(parts[1]) : ""
            let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(raw.utf8))) ?? .string(raw)
            return (key, value)
        }

        static func render(_ r: JSONValue) -> String {
            let sources = r["sources"]?.object ?? [:]
            let keys = (r["live"]?.array ?? []).compactMap(\.string)
            let rows = keys.map { key -> [String] in
                let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
                let value = parts.count == 2 ? r[parts[0]]?[parts[1]] : r[key]
                let shown = key == "alerts" ? "\(value?.array?.count ?? 0) rules" : Output.text(value)
                return [key, shown, Output.text(sources[key])]
            }
            var text = Output.table(["KEY", "VALUE", "SOURCE"], rows)
            text += "\ninfluxdb token: \(r["influxdb"]?["token_set"]?.bool == true ? "set" : "not set")"
            return text
        }
    }
}
