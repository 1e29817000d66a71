import ControlProtocol
import DeviceActor
import Foundation
import HPCore
import Logging
import Sinks

/// The control socket's dispatcher: decodes a request's `args` into the typed request of its
/// command, calls `FleetOperations` (the same operations HTTP calls) and encodes the typed result.
public final class ControlCommands: Sendable {
    public static let commands = ["ping", "list", "status", "add", "update", "remove", "enable", "disable", "reload",
                                  "read", "write", "jobs", "wanted", "sg-ready", "pv-surplus", "test", "detect", "models", "alerts", "notifications", "events", "history", "settings"]

    public let operations: FleetOperations
    /// `test` connects to devices nobody polls; a few at a time, so a flood of tests stays cheap.
    public static var maxConcurrentTests: Int { FleetOperations.maxConcurrentTests }

    public init(operations: FleetOperations) {
        self.operations = operations
    }

    public convenience init(control: FleetControl, store: SQLiteStore?, links: LinkRegistry, version: String,
                            logger: Logger = Logger(label: "hpmanager.control")) {
        self.init(operations: FleetOperations(control: control, store: store, links: links, version: version, logger: logger))
    }

    func handle(_ decoded: DecodedRequest) async -> ControlResponse {
        switch decoded {
        case .reply(let response): return response
        case .request(let request):
            do {
                return .success(try await execute(request), id: request.id)
            } catch {
                let failure = FleetOperations.commandError(error)
                return .failure(failure.code.rawValue, failure.message, field: failure.field, id: request.id)
            }
        }
    }

    private func execute(_ request: ControlRequest) async throws -> JSONValue {
        let args = request.args ?? [:]
        let ops = operations
        /// The typed request of this command.
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try CommandArguments.decode(type, from: args, command: request.cmd)
        }
        switch request.cmd {
        case "ping": return try Self.encode(ops.ping())
        case "list": return try Self.encode(try await ops.heatpumps(detailed: false))
        case "status": return try Self.encode(try await ops.heatpumps(id: try decode(StatusRequest.self).id, detailed: true))
        case "add": return try Self.encode(try await ops.add(try decode(DeviceSpecRequest.self)))
        case "update": return try Self.encode(try await ops.update(try decode(UpdateRequest.self)))
        case "remove": return try Self.encode(try await ops.remove(try decode(DeviceIDRequest.self)))
        case "enable", "disable": return try Self.encode(try await ops.setEnabled(try decode(DeviceIDRequest.self), request.cmd == "enable"))
        case "reload": return try Self.encode(try await ops.reload())
        case "read": return try Self.encode(try await ops.read(try decode(ReadRequest.self)))
        case "write":
            let write = try decode(WriteRequest.self)
            return try write.clear == true ? Self.encode(try await ops.clearWanted(write)) : Self.encode(try await ops.write(write))
        case "sg-ready": return try Self.encode(try await ops.sgReady(try decode(SGReadyRequest.self)))
        case "pv-surplus": return try Self.encode(try await ops.pvSurplus(try decode(PVSurplusRequest.self)))
        case "wanted": return try Self.encode(await ops.wanted(try decode(WantedRequest.self)))
        case "jobs":
            let jobs = try decode(JobsRequest.self)
            switch jobs.action ?? "list" {
            case "list": return try Self.encode(try await ops.jobs(jobs))
            case "add": return try Self.encode(try await ops.addJob(jobs))
            case "remove": return try Self.encode(try await ops.removeJob(jobs))
            case let other: throw CommandError(.badRequest, "jobs: unknown action \"\(other)\"; expected add, list or remove")
            }
        case "test": return try Self.encode(try await ops.test(try decode(DeviceSpecRequest.self)))
        case "detect": return try Self.encode(try await ops.detect(try decode(DetectRequest.self)))
        case "models": return try Self.encode(ops.models())
        case "alerts": return try Self.encode(try await ops.alerts(try decode(AlertsRequest.self)))
        case "notifications": return try Self.encode(try await ops.notifications(try decode(NotificationsRequest.self)))
        case "events": return try Self.encode(try await ops.events(try decode(EventsRequest.self)))
        case "history": return try Self.encode(try await ops.history(try decode(HistoryRequest.self)))
        case "settings":
            let settings = try decode(SettingsRequest.self)
            switch settings.action ?? "get" {
            case "get": return try Self.encode(ops.settings())
            case "set": return try Self.encode(try await ops.changeSettings(settings))
            case let other: throw CommandError(.badRequest, "settings: unknown action \"\(other)\"; expected get or set", field: "action")
            }
        default:
            throw ControlError(.unknownCommand, "unknown command \"\(request.cmd)\"; commands: \(Self.commands.joined(separator: ", "))")
        }
    }

    /// A typed result as the JSON value of the response's `result`.
    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
    }
}
