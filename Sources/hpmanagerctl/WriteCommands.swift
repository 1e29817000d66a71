import ArgumentParser
import ControlProtocol
import Foundation

/// Who is writing, for the audit trail: the user behind sudo, else the login user.
func auditClient() -> String {
    let env = ProcessInfo.processInfo.environment
    return "hpmanagerctl (\(env["SUDO_USER"] ?? env["USER"] ?? "uid \(getuid())"))"
}

extension HPManagerCtl {
    struct Write: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a register (validated, budgeted, read back, audited).",
            discussion: """
            EEPROM registers: one write per eeprom_min_interval and eeprom_daily_cap per 24 h (refused with \
            [eeprom_budget]); an unchanged value is not written. Pulse registers: the value may be omitted. \
            Cyclic registers: the value is re-sent every refresh_interval until --clear.
            """)
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        @Argument(help: "Register name.") var register: String
        @Argument(help: "Value: a number, true/false, or an enum label (optional for pulse registers).") var value: String?
        @Flag(help: "Stop re-sending a cyclic register's value.") var clear = false

        func validate() throws {
            if clear && value != nil { throw ValidationError("--clear takes no value") }
        }

        func run() throws {
            var args: [String: JSONValue] = ["id": .string(id), "register": .string(register), "client": .string(auditClient())]
            if clear {
                args["clear"] = .bool(true)
                connection.show(try connection.call("write", args)) { _ in "\(register): cleared; no longer re-sent" }
                return
            }
            if let value { args["value"] = .string(value) }
            let result = try connection.call("write", args)
            let outcome = result["outcome"]?.string ?? ""
            connection.show(result) { r in
                var line = switch outcome {
                case "unchanged": "\(register): unchanged (already \(Output.text(r["previous"]))); nothing written"
                case "sent": "\(register): sent \(Output.text(r["requested"])) (no read-back)"
                default: "\(register): \(Output.text(r["previous"])) → \(Output.text(r["requested"])) (read back \(Output.text(r["read_back"])), \(outcome == "verified" ? "verified" : "NOT verified"))"
                }
                if let interval = r["refresh_interval"]?.number { line += "; re-sent every \(Output.text(.number(interval))) s until --clear" }
                return line
            }
            if outcome == "unverified" { throw ExitCode(1) }
        }
    }

    struct Wanted: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Values of cyclic registers that are re-sent until cleared.")
        @OptionGroup var connection: Connection
        @Argument(help: "Only this heat pump.") var id: String?
        func run() throws {
            var args: [String: JSONValue] = [:]
            if let id { args["id"] = .string(id) }
            connection.show(try connection.call("wanted", args)) { r in
                Output.table(["HEATPUMP", "REGISTER", "VALUE", "EVERY", "NEXT", "CLIENT"], (r["wanted"]?.array ?? []).map { w in
                    [Output.text(w["heatpump_id"]), Output.text(w["register"]), Output.text(w["value"]), Output.text(w["refresh_interval"]),
                     Jobs.time(w["next_refresh"]), Output.text(w["client"])]
                })
            }
        }
    }

    struct Jobs: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scheduled writes (stored in the daemon's SQLite store).",
            subcommands: [List.self, Add.self, Remove.self], defaultSubcommand: List.self)

        static func time(_ value: JSONValue?) -> String {
            guard let seconds = value?.number else { return "-" }
            let f = DateFormatter()
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return f.string(from: Date(timeIntervalSince1970: seconds))
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List jobs with their next run.")
            @OptionGroup var connection: Connection
            @Argument(help: "Only this heat pump.") var id: String?
            func run() throws {
                var args: [String: JSONValue] = ["action": .string("list")]
                if let id { args["id"] = .string(id) }
                connection.show(try connection.call("jobs", args)) { r in
                    Output.table(["JOB", "HEATPUMP", "REGISTER", "VALUE", "DAYS", "AT", "NEXT RUN", "LAST RUN"], (r["jobs"]?.array ?? []).map { j in
                        [Output.text(j["job"]), Output.text(j["heatpump_id"]), Output.text(j["register"]), Output.text(j["value"]),
                         Output.text(j["days"]), Output.text(j["at"]), Jobs.time(j["next_run"]), Jobs.time(j["last_run"])]
                    })
                }
            }
        }

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add a job: set REGISTER to VALUE at --at on --days.",
                discussion: "Example: hpmanagerctl jobs add idm1 dhw_setpoint 50 --days mon-fri --at 06:00. Times are the daemon's local time. Runs missed while the daemon is down are not replayed.")
            @OptionGroup var connection: Connection
            @Argument(help: "Heat pump id.") var id: String
            @Argument(help: "Register name.") var register: String
            @Argument(help: "Value, as for write.") var value: String
            @Option(help: "HH:MM or HH:MM:SS (24-hour, local time).") var at: String
            @Option(help: "daily, weekdays, weekend, or day names such as mon-fri or sat,sun.") var days = "daily"
            func run() throws {
                let result = try connection.call("jobs", ["action": .string("add"), "id": .string(id), "register": .string(register),
                                                          "value": .string(value), "at": .string(at), "days": .string(days), "client": .string(auditClient())])
                connection.show(result) { r in "job \(Output.text(r["job"])) added; next run \(Jobs.time(r["next_run"]))" }
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a job by number.")
            @OptionGroup var connection: Connection
            @Argument(help: "Job number (see jobs list).") var job: Int
            func run() throws {
                let result = try connection.call("jobs", ["action": .string("remove"), "job": .number(Double(job)), "client": .string(auditClient())])
                connection.show(result) { _ in "job \(job) removed" }
            }
        }
    }
}
