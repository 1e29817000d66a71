import ArgumentParser
import BuildInfo
import ControlProtocol
import Foundation

/// `hpmanagerctl`: manage a running hpmanagerd through its control socket.
@main
struct HPManagerCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hpmanagerctl",
        abstract: "Manage a running hpmanagerd through its Unix control socket.",
        discussion: """
        Exit status: 0 ok, 1 the daemon refused the request, 64 usage error, 69 daemon not running,
        74 I/O error, 77 permission denied.
        """,
        version: BuildInfo.description,
        subcommands: [List.self, Status.self, Add.self, Update.self, Remove.self, Enable.self, Disable.self, Reload.self,
                      Read.self, Write.self, Jobs.self, Wanted.self, SGReady.self, PVSurplus.self, Test.self, Detect.self, Models.self, Alerts.self, Notifications.self, Events.self, History.self, Settings.self, Backup.self, HashToken.self]
    )
}

/// Options every subcommand takes.
struct Connection: ParsableArguments {
    @Option(help: "Control socket path (default: $HPMANAGER_SOCKET or /run/hpmanager/hpmanager.sock).")
    var socket: String?

    @Flag(help: "Print the daemon's JSON result instead of a table.")
    var json = false

    @Option(help: "Seconds to wait for an answer.")
    var timeout: Double = 30

    var path: String { socket ?? ProcessInfo.processInfo.environment["HPMANAGER_SOCKET"] ?? "/run/hpmanager/hpmanager.sock" }

    var session: ControlSession { ControlSession(path: path, json: json, timeout: timeout) }

    /// Sends the request; prints errors and exits with a meaningful status on failure.
    func call(_ cmd: String, _ args: [String: JSONValue] = [:]) throws -> JSONValue { try session.call(cmd, args) }

    /// Prints `result` as JSON or with `render`.
    func show(_ result: JSONValue, _ render: (JSONValue) -> String) { session.show(result, render) }
}

/// One conversation with the daemon's control socket.
struct ControlSession {
    var path: String
    var json: Bool
    /// Seconds to wait for an answer.
    var timeout: Double

    func call(_ cmd: String, _ args: [String: JSONValue] = [:]) throws -> JSONValue {
        let client = ControlClient(path: path, timeout: timeout)
        do {
            let response = try client.send(ControlRequest(cmd: cmd, args: args, id: UUID().uuidString))
            guard response.ok else {
                let error = response.error
                FileHandle.standardError.write(Data("hpmanagerctl: \(error?.message ?? "request failed") [\(error?.code ?? "error")]\n".utf8))
                throw ExitCode(1)
            }
            return response.result ?? .null
        } catch let failure as ControlClient.Failure {
            switch failure {
            case .notRunning(let m): fail(m, 69)
            case .permissionDenied(let m): fail(m, 77)
            case .io(let m): fail(m, 74)
            }
        }
    }

    func fail(_ message: String, _ code: Int32) -> Never {
        FileHandle.standardError.write(Data("hpmanagerctl: \(message)\n".utf8))
        Foundation.exit(code)
    }

    func show(_ result: JSONValue, _ render: (JSONValue) -> String) {
        print(json ? Output.json(result) : render(result))
    }
}

/// A device given as a file (heatpumps.yml entry as YAML or JSON) or as flags.
struct DeviceSpec: ParsableArguments {
    @Option(name: .customLong("file"), help: "Device spec file: one heatpumps.yml entry as YAML or JSON ('-' for stdin).")
    var file: String?
    @Option(help: "Id (with flags instead of --file).") var id: String?
    @Option(help: "Model name.") var model: String?
    @Option(help: "Display name.") var name: String?
    @Option(help: "Location.") var location: String?
    @Option(help: "Modbus TCP host.") var host: String?
    @Option(help: "Modbus TCP port, or the serial device with --rtu.") var port: String?
    @Flag(help: "Modbus RTU (port is the serial device).") var rtu = false
    @Option(help: "Unit id.") var unit: Int?
    @Option(help: "Poll interval, seconds.") var pollInterval: Double?
    @Option(help: "Response timeout, seconds.") var deviceTimeout: Double?
    @Option(help: ArgumentHelp("Circuits/zones the device has, e.g. circuits=A,B or zones=0,1 (repeatable).", valueName: "KEY=A,B"))
    var config: [String] = []

    func value(fallbackID: String? = nil) throws -> JSONValue {
        if let file {
            let text = file == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                : try String(contentsOfFile: file, encoding: .utf8)
            return .string(text)
        }
        guard let id = id ?? fallbackID, let model, (host != nil || rtu), port != nil || !rtu else {
            throw ValidationError("give --file, or --id, --model and --host (or --rtu --port DEVICE)")
        }
        var modbus: [String: JSONValue] = ["type": .string(rtu ? "rtu" : "tcp")]
        if let host { modbus["host"] = .string(host) }
        if let port { modbus["port"] = Int(port).map { JSONValue($0) } ?? .string(port) }
        if let unit { modbus["unit_id"] = JSONValue(unit) }
        if let deviceTimeout { modbus["timeout"] = .number(deviceTimeout) }
        var object: [String: JSONValue] = ["id": .string(id), "model": .string(model), "modbus": .object(modbus)]
        if let name { object["name"] = .string(name) }
        if let location { object["location"] = .string(location) }
        if let pollInterval { object["poll_interval"] = .number(pollInterval) }
        if !config.isEmpty {
            var templates: [String: JSONValue] = [:]
            for item in config {
                let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--config takes KEY=A,B (e.g. circuits=A,B), found \(item)") }
                templates[parts[0]] = .array(parts[1].split(separator: ",").map { .string(String($0)) })
            }
            object["config"] = .object(templates)
        }
        return .object(object)
    }
}

func deviceTable(_ result: JSONValue, full: Bool) -> String {
    let rows = result["heatpumps"]?.array ?? []
    if full {
        return rows.map { d in
            let lines: [(String, String)] = [
                ("id", Output.text(d["id"])), ("name", Output.text(d["name"])), ("model", Output.text(d["model"])),
                ("source", Output.text(d["source"])), ("state", Output.text(d["state"])), ("up", Output.text(d["up"])),
                ("link", "\(Output.text(d["link"])) unit \(Output.text(d["unit_id"]))"), ("poll interval", "\(Output.text(d["poll_interval"])) s"),
                ("last success", Output.ago(d["last_success"])), ("last error", Output.text(d["last_error"])),
                ("polls / errors", "\(Output.text(d["polls"])) / \(Output.text(d["errors"]))"), ("overruns", Output.text(d["overruns"])),
                ("backoff", d["backoff"]?.number.map { "\($0) s" } ?? "-"), ("restarts", Output.text(d["restarts"])),
                ("requests per poll", Output.text(d["requests_per_poll"])), ("poll duration", "\(Output.text(d["poll_duration"])) s"),
                ("quarantined", Output.text(d["quarantined"]).isEmpty ? "-" : Output.text(d["quarantined"])),
            ]
            return lines.map { "\($0.0.padding(toLength: 18, withPad: " ", startingAt: 0))\($0.1)" }.joined(separator: "\n")
        }.joined(separator: "\n\n")
    }
    return Output.table(["ID", "NAME", "MODEL", "SOURCE", "ENABLED", "STATE", "UP"], rows.map { d in
        ["id", "name", "model", "source", "enabled", "state", "up"].map { Output.text(d[$0]) }
    })
}

extension HPManagerCtl {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List heat pumps with their state.")
        @OptionGroup var connection: Connection
        func run() throws { connection.show(try connection.call("list")) { deviceTable($0, full: false) } }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Detailed status of one or all heat pumps.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String?
        func run() throws {
            let args: [String: JSONValue] = id.map { ["id": .string($0)] } ?? [:]
            connection.show(try connection.call("status", args)) { deviceTable($0, full: true) }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a heat pump at runtime (validated like heatpumps.yml; persisted).")
        @OptionGroup var connection: Connection
        @OptionGroup var spec: DeviceSpec
        func run() throws { connection.show(try connection.call("add", ["device": try spec.value()])) { "added \(Output.text($0["added"]))" } }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a runtime heat pump's spec.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var heatpump: String
        @OptionGroup var spec: DeviceSpec
        func run() throws {
            let result = try connection.call("update", ["id": .string(heatpump), "device": try spec.value(fallbackID: heatpump)])
            connection.show(result) { "updated \(Output.text($0["updated"]))" }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a runtime heat pump.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        func run() throws { connection.show(try connection.call("remove", ["id": .string(id)])) { "removed \(Output.text($0["removed"]))" } }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a heat pump (overrides heatpumps.yml; persisted).")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        func run() throws { connection.show(try connection.call("enable", ["id": .string(id)])) { "enabled \(Output.text($0["id"]))" } }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a heat pump: polling stops and its series disappear (persisted).")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        func run() throws { connection.show(try connection.call("disable", ["id": .string(id)])) { "disabled \(Output.text($0["id"]))" } }
    }

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-read the configuration files (like SIGHUP); errors are reported, nothing changes.")
        @OptionGroup var connection: Connection
        func run() throws {
            connection.show(try connection.call("reload")) { r in
                "added \(Output.text(r["added"]).isEmpty ? "-" : Output.text(r["added"])), removed \(Output.text(r["removed"]).isEmpty ? "-" : Output.text(r["removed"])), changed \(Output.text(r["changed"]).isEmpty ? "-" : Output.text(r["changed"])), unchanged \(Output.text(r["unchanged"]))"
            }
        }
    }

    struct Read: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read registers now (ahead of the poll schedule).")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        @Argument(help: "Register names (default: all).") var registers: [String] = []
        func run() throws {
            let result = try connection.call("read", ["id": .string(id), "registers": .array(registers.map { .string($0) })])
            connection.show(result) { r in
                Output.table(["REGISTER", "VALUE", "LABEL"], (r["values"]?.array ?? []).map { [Output.text($0["register"]), Output.text($0["value"]), Output.text($0["label"])] })
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Try a connection and a full read for a device that is not added.")
        @OptionGroup var connection: Connection
        @OptionGroup var spec: DeviceSpec
        func run() throws {
            let result = try connection.call("test", ["device": try spec.value()])
            connection.show(result) { r in
                "ok: \(Output.text(r["requests"])) requests in \(Output.text(r["duration"])) s\n" +
                    Output.table(["REGISTER", "VALUE", "LABEL"], (r["values"]?.array ?? []).map { [Output.text($0["register"]), Output.text($0["value"]), Output.text($0["label"])] })
            }
        }
    }

    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Built-in and user models.")
        @OptionGroup var connection: Connection
        @Argument(help: "show MODEL: one model's setup instructions and circuits/zones.") var action: [String] = []
        func run() throws {
            if !action.isEmpty {
                guard action.count == 2, action[0] == "show" else { throw ValidationError("usage: hpmanagerctl models [show MODEL]") }
                let result = try connection.call("models")
                guard let model = (result["models"]?.array ?? []).first(where: { Output.text($0["name"]) == action[1] }) else {
                    let known = (result["models"]?.array ?? []).map { Output.text($0["name"]) }.joined(separator: ", ")
                    throw ValidationError("unknown model \(action[1]); known: \(known)")
                }
                connection.show(model) { m in
                    var lines = ["\(Output.text(m["name"])) — \(Output.text(m["manufacturer"])): \(Output.text(m["description"]))",
                                 "registers: \(Output.text(m["registers"])) (\(Output.text(m["source"])))"]
                    for t in m["templates"]?.array ?? [] {
                        let instances = (t["instances"]?.array ?? []).map { Output.text($0) }.joined(separator: ",")
                        let defaults = (t["default"]?.array ?? []).map { Output.text($0) }.joined(separator: ",")
                        lines.append("config.\(Output.text(t["key"])): \(instances) (default: \(defaults.isEmpty ? "none" : defaults)), label \(Output.text(t["label"]))")
                    }
                    if let groups = m["groups"]?.array, !groups.isEmpty {
                        lines.append("config.groups (polled only when selected; all: every group; read/write by name always works):")
                        for g in groups {
                            lines.append("  \(Output.text(g["name"])): \(Output.text(g["registers"])) registers — \(Output.text(g["description"]))")
                        }
                    }
                    let setup = Output.text(m["setup"])
                    lines.append("")
                    lines.append(setup.isEmpty ? "No setup instructions for this model." : setup)
                    return lines.joined(separator: "\n")
                }
                return
            }
            connection.show(try connection.call("models")) { r in
                Output.table(["MODEL", "MANUFACTURER", "REGISTERS", "SOURCE", "DESCRIPTION"], (r["models"]?.array ?? []).map { m in
                    ["name", "manufacturer", "registers", "source", "description"].map { Output.text(m[$0]) }
                })
            }
        }
    }

    struct Alerts: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Raised and resolved alerts.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String?
        @Flag(help: "Only alerts that are still raised.") var active = false
        func run() throws {
            var args: [String: JSONValue] = ["active": .bool(active)]
            if let id { args["id"] = .string(id) }
            connection.show(try connection.call("alerts", args)) { r in
                Output.table(["HEAT PUMP", "RULE", "SEVERITY", "RAISED", "RESOLVED", "VALUE", "MESSAGE"], (r["alerts"]?.array ?? []).map { a in
                    [Output.text(a["heatpump_id"]), Output.text(a["rule"]), Output.text(a["severity"]), Output.time(a["raised_at"]),
                     Output.time(a["resolved_at"]), Output.text(a["value"]), Output.text(a["message"])]
                })
            }
        }
    }

    struct Notifications: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Notifications sent for alerts (outbox), with every delivery attempt.")
        @OptionGroup var connection: Connection
        @Option(help: "Show the newest N messages (1-1000).") var limit: Int = 20
        @Option(help: "Only this channel.") var channel: String?
        func run() throws {
            var args: [String: JSONValue] = ["limit": .number(Double(limit))]
            if let channel { args["channel"] = .string(channel) }
            connection.show(try connection.call("notifications", args)) { r in
                var lines: [String] = []
                for n in r["notifications"]?.array ?? [] {
                    lines.append("#\(Output.text(n["id"])) \(Output.time(n["created_at"])) \(Output.text(n["channel"])) \(Output.text(n["state"]))"
                                 + " [\(Output.text(n["status"])), \(Output.text(n["severity"]))] route \(Output.text(n["route"])): \(Output.text(n["title"]))")
                    for a in n["attempts"]?.array ?? [] {
                        let ok = a["ok"]?.bool == true
                        lines.append("    \(Output.time(a["at"])) \(ok ? "ok" : "failed") \(Output.text(a["status"]))\(ok ? "" : " " + Output.text(a["error"]))")
                    }
                    if Output.text(n["state"]) == "pending", n["next_attempt_at"] != nil { lines.append("    next attempt \(Output.time(n["next_attempt_at"]))") }
                }
                return lines.isEmpty ? "no notifications" : lines.joined(separator: "\n")
            }
        }
    }

    struct Events: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Events: up/down, restarts, config changes, runtime changes.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String?
        @Option(help: "Only the last SECONDS.") var since: Double?
        func run() throws {
            var args: [String: JSONValue] = [:]
            if let id { args["id"] = .string(id) }
            if let since { args["since"] = .number(Date().timeIntervalSince1970 - since) }
            connection.show(try connection.call("events", args)) { r in
                Output.table(["TIME", "HEAT PUMP", "EVENT", "MESSAGE"], (r["events"]?.array ?? []).map { e in
                    [Output.time(e["at"]), Output.text(e["heatpump_id"]), Output.text(e["kind"]), Output.text(e["message"])]
                })
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A register's history from the SQLite store.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        @Argument(help: "Register name.") var register: String
        @Option(help: "Only the last SECONDS.") var since: Double?
        func run() throws {
            var args: [String: JSONValue] = ["id": .string(id), "register": .string(register)]
            if let since { args["since"] = .number(Date().timeIntervalSince1970 - since) }
            connection.show(try connection.call("history", args)) { r in
                Output.table(["TIME", register.uppercased()], (r["points"]?.array ?? []).map { p in [Output.time(p.array?.first), Output.text(p.array?.last)] })
            }
        }
    }
}
