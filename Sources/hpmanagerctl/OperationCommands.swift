import ArgumentParser
import ControlProtocol

extension HPManagerCtl {
    /// One line per register an operation wrote.
    static func describeWrites(_ result: JSONValue) -> String {
        (result["writes"]?.array ?? []).map { w in
            let outcome = w["outcome"]?.string ?? ""
            return "  \(Output.text(w["register"])) := \(Output.text(w["requested"])) (\(outcome))"
        }.joined(separator: "\n")
    }

    struct SGReady: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sg-ready",
            abstract: "Set the SG Ready state with the model's registers: lock (off), normal, recommend, boost.",
            discussion: "Models without SG Ready over Modbus refuse with [unsupported]; a state the vendor lacks is refused with the states it has.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        @Argument(help: "lock|off, normal, recommend, boost.") var state: String
        func run() throws {
            let result = try connection.call("sg-ready", ["id": .string(id), "state": .string(state), "client": .string(auditClient())])
            connection.show(result) { r in "\(id): SG Ready \(state)\n" + HPManagerCtl.describeWrites(r) }
        }
    }

    struct PVSurplus: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pv-surplus",
            abstract: "Report PV surplus (kW) to the heat pump's energy-manager input.")
        @OptionGroup var connection: Connection
        @Argument(help: "Heat pump id.") var id: String
        @Option(help: "Surplus in kW.") var kw: Double
        @Option(name: .customLong("production-kw"), help: "Current PV production in kW, where the model takes it.") var productionKW: Double?
        func validate() throws {
            guard kw.isFinite, productionKW?.isFinite ?? true else { throw ValidationError("kW values must be finite numbers") }
        }

        func run() throws {
            var args: [String: JSONValue] = ["id": .string(id), "kw": .number(kw), "client": .string(auditClient())]
            if let productionKW { args["production_kw"] = .number(productionKW) }
            let result = try connection.call("pv-surplus", args)
            connection.show(result) { r in "\(id): PV surplus \(Output.text(.number(kw))) kW\n" + HPManagerCtl.describeWrites(r) }
        }
    }
}
