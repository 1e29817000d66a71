import ControlProtocol
import DeviceActor
import Foundation
import HPCore
import Logging
import Sinks
import Synchronization

/// Executes control requests against the fleet, its status boards and the SQLite store.
public final class ControlCommands: Sendable {
    public static let commands = ["ping", "list", "status", "add", "update", "remove", "enable", "disable", "reload",
                                  "read", "write", "jobs", "wanted", "sg-ready", "pv-surplus", "test", "models", "alerts", "events", "history"]

    private let control: FleetControl
    private let store: SQLiteStore?
    private let links: LinkRegistry
    /// `test` connects to devices nobody polls; a few at a time, so a flood of tests stays cheap.
    public static let maxConcurrentTests = 4
    private let runningTests = Mutex(0)
    private let version: String
    private let logger: Logger
    private let writes: WriteControl

    /// - Parameter writes: the daemon's write control (persisted EEPROM budget, cyclic values, jobs);
    ///   nil makes one without a running schedule (writes still validated, budgeted and audited).
    public init(control: FleetControl, store: SQLiteStore?, links: LinkRegistry, version: String, writes: WriteControl? = nil,
                logger: Logger = Logger(label: "hpmanager.control")) {
        self.logger = logger
        self.writes = writes ?? WriteControl(control: control, store: store, settings: control.configuration.collector.writes, logger: logger)
        self.control = control
        self.store = store
        self.links = links
        self.version = version
    }

    func handle(_ decoded: DecodedRequest) async -> ControlResponse {
        switch decoded {
        case .reply(let response): return response
        case .request(let request):
            do {
                return .success(try await execute(request), id: request.id)
            } catch let error as ControlError {
                return .failure(error.code, error.message, id: request.id)
            } catch let error as DeviceOperationError {
                return .failure(error.code.rawValue, error.message, id: request.id)
            } catch {
                return .failure("internal", "\(error)", id: request.id)
            }
        }
    }

    private func execute(_ request: ControlRequest) async throws -> JSONValue {
        let args = request.args ?? [:]
        func wrongType(_ key: String, _ type: String) -> ControlError {
            ControlError("bad_request", "\(request.cmd): \"\(key)\" must be a \(type)")
        }
        // Optional arguments: absent or null means "not given"; any other wrong type is an error, not ignored.
        func optionalString(_ key: String) throws -> String? {
            switch args[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            default: throw wrongType(key, "string")
            }
        }
        func optionalNumber(_ key: String) throws -> Double? {
            switch args[key] {
            case nil, .null?: return nil
            case .number(let value)? where value.isFinite: return value
            default: throw wrongType(key, "number")
            }
        }
        func optionalBool(_ key: String) throws -> Bool? {
            switch args[key] {
            case nil, .null?: return nil
            case .bool(let value)?: return value
            default: throw wrongType(key, "boolean")
            }
        }
        func optionalStrings(_ key: String) throws -> [String]? {
            switch args[key] {
            case nil, .null?: return nil
            case .array(let items)?:
                return try items.map { item in
                    guard let text = item.string else { throw wrongType(key, "list of strings") }
                    return text
                }
            default: throw wrongType(key, "list of strings")
            }
        }
        func string(_ key: String) throws -> String {
            guard let value = try optionalString(key), !value.isEmpty else { throw ControlError("bad_request", "\(request.cmd) needs \"\(key)\"") }
            return value
        }
        /// `write` takes the value as text (as typed) or as a JSON number or boolean; absent only for
        /// pulse registers (their fixed value is sent).
        func valueText(_ key: String) throws -> String? {
            switch args[key] {
            case .number(let number)? where number.isFinite:
                if let whole = Int64(exactly: number) { return String(whole) }
                return "\(number)"
            case .bool(let flag)?: return flag ? "true" : "false"
            case nil, .null?: return nil
            case .string?: return try string(key)
            default: throw wrongType(key, "string or number")
            }
        }
        func spec() throws -> String {
            guard let device = args["device"] else { throw ControlError("bad_request", "\(request.cmd) needs \"device\" (a heatpumps.yml entry as JSON)") }
            if let text = device.string { return text }
            let data = try JSONEncoder().encode(device)
            return String(decoding: data, as: UTF8.self)
        }
        switch request.cmd {
        case "ping":
            return .object(["version": .string(version), "protocol": JSONValue(controlProtocolVersion)])
        case "list":
            return .object(["heatpumps": .array(try await summaries(nil, full: false))])
        case "status":
            let id = try optionalString("id")
            let rows = try await summaries(id, full: true)
            if let id, rows.isEmpty { throw ControlError("not_found", "no heat pump \(id)") }
            return .object(["heatpumps": .array(rows)])
        case "add":
            let device = try await control.add(spec: try spec())
            return .object(["added": .string(device.id)])
        case "update":
            let device = try await control.update(id: try string("id"), spec: try spec())
            return .object(["updated": .string(device.id)])
        case "remove":
            let id = try string("id")
            try await control.remove(id: id)
            return .object(["removed": .string(id)])
        case "enable", "disable":
            let id = try string("id")
            try await control.setEnabled(id: id, request.cmd == "enable")
            return .object(["id": .string(id), "enabled": .bool(request.cmd == "enable")])
        case "reload":
            let diff = try await control.reload().get()
            return .object(["added": .array(diff.added.map { .string($0) }), "removed": .array(diff.removed.map { .string($0) }),
                            "changed": .array(diff.changed.map { .string($0) }), "unchanged": JSONValue(diff.unchanged.count)])
        case "read":
            let id = try string("id")
            let names = try optionalStrings("registers") ?? []
            let samples = try await actor(id).readNow(names)
            return .object(["id": .string(id), "values": .array(samples.map(Self.sample))])
        case "write":
            let id = try string("id"), register = try string("register"), client = try optionalString("client") ?? "control-socket"
            if try optionalBool("clear") == true {
                try await writes.clear(id: id, register: register, client: client)
                return .object(["id": .string(id), "register": .string(register), "cleared": .bool(true)])
            }
            return Self.writeReport(try await writes.write(id: id, register: register, value: try valueText("value"), client: client))
        case "sg-ready":
            let id = try string("id")
            let reports = try await writes.sgReady(id: id, state: try string("state"), client: try optionalString("client") ?? "control-socket")
            return .object(["id": .string(id), "state": .string(try string("state")), "writes": .array(reports.map(Self.writeReport))])
        case "pv-surplus":
            let id = try string("id")
            guard let kw = try optionalNumber("kw") else { throw ControlError("bad_request", "pv-surplus needs \"kw\" (a number)") }
            let reports = try await writes.pvSurplus(id: id, kilowatts: kw, productionKilowatts: try optionalNumber("production_kw"),
                                                     client: try optionalString("client") ?? "control-socket")
            return .object(["id": .string(id), "kw": .number(kw), "writes": .array(reports.map(Self.writeReport))])
        case "wanted":
            let only = try optionalString("id")
            return .object(["wanted": .array(await writes.wanted().filter { only == nil || $0.key.heatpumpID == only }.map { w in
                .object(["heatpump_id": .string(w.key.heatpumpID), "register": .string(w.key.register), "value": .string(w.value),
                         "refresh_interval": .number(w.interval), "next_refresh": .number(w.next), "client": .string(w.client)])
            })])
        case "jobs":
            let client = try optionalString("client") ?? "control-socket"
            switch try optionalString("action") ?? "list" {
            case "list":
                return .object(["jobs": .array(await writes.jobs(heatpumpID: try optionalString("id")).map(Self.job))])
            case "add":
                let job = try await writes.addJob(id: try string("id"), register: try string("register"), value: try string("value"),
                                                  days: try optionalString("days") ?? "daily", time: try string("at"), client: client)
                return Self.job(job)
            case "remove":
                guard let number = try optionalNumber("job"), let jobID = Int64(exactly: number) else {
                    throw ControlError("bad_request", "jobs remove needs \"job\" (the job number)")
                }
                let job = try await writes.removeJob(jobID, client: client)
                return .object(["removed": JSONValue(Double(job.id))])
            case let other:
                throw ControlError("bad_request", "jobs: unknown action \"\(other)\"; expected add, list or remove")
            }
        case "test":
            return try await test(spec: try spec())
        case "models":
            let config = control.configuration
            return .object(["models": .array(config.models.values.sorted { $0.name < $1.name }.map { m in
                .object(["name": .string(m.name), "manufacturer": .string(m.manufacturer), "description": .string(m.description),
                         "registers": JSONValue(m.registers.count), "source": .string(m.source.hasPrefix("builtin") ? "builtin" : m.source)])
            })])
        case "alerts":
            let heatpumpID = try optionalString("id"), activeOnly = try optionalBool("active") ?? false
            let rows = try await requireStore().alerts(heatpumpID: heatpumpID, activeOnly: activeOnly)
            return .object(["alerts": .array(rows.map { a in
                .object(["rule": .string(a.rule), "heatpump_id": .string(a.heatpumpID), "severity": .string(a.severity),
                         "raised_at": .number(a.raisedAt), "resolved_at": JSONValue(a.resolvedAt), "value": JSONValue(a.value), "message": .string(a.message)])
            })])
        case "events":
            let heatpumpID = try optionalString("id"), since = try optionalNumber("since") ?? 0
            let rows = try await requireStore().events(heatpumpID: heatpumpID, since: since)
            return .object(["events": .array(rows.map { e in
                .object(["at": .number(e.at), "heatpump_id": JSONValue(e.heatpumpID), "kind": .string(e.kind), "message": .string(e.message)])
            })])
        case "history":
            let id = try string("id"), register = try string("register"), since = try optionalNumber("since") ?? 0
            let points = try await requireStore().history(heatpumpID: id, register: register, since: since)
            return .object(["points": .array(points.map { .array([.number($0.at), .number($0.value)]) })])
        default:
            throw ControlError("unknown_command", "unknown command \"\(request.cmd)\"; commands: \(Self.commands.joined(separator: ", "))")
        }
    }

    private func requireStore() throws -> SQLiteStore {
        guard let store else { throw ControlError("unavailable", "the SQLite store is not available") }
        return store
    }

    private func actor(_ id: String) async throws -> DeviceActor {
        try await control.runningActor(id)
    }

    static func sample(_ s: Sample) -> JSONValue {
        let value: JSONValue = if case .string(let text) = s.value { .string(text) } else { .number(s.value.doubleValue) }
        var o: [String: JSONValue] = ["register": .string(s.name), "value": value]
        if let label = s.label { o["label"] = .string(label) }
        if !s.bits.isEmpty { o["bits"] = .array(s.bits.map { JSONValue($0) }) }
        return .object(o)
    }

    private func summaries(_ only: String?, full: Bool) async throws -> [JSONValue] {
        let view = control.view
        let boards = await control.fleet.statusBoards
        var rows: [JSONValue] = []
        for device in view.configuration.devices where only == nil || device.id == only {
            var o: [String: JSONValue] = [
                "id": .string(device.id), "name": .string(device.name), "location": .string(device.location), "model": .string(device.model),
                "enabled": .bool(device.enabled), "source": .string(view.source(of: device.id)),
            ]
            let status = boards[device.id]?.snapshot
            o["state"] = .string(device.enabled ? (status?.state.rawValue ?? "connecting") : "disabled")
            o["up"] = .bool(status?.up ?? false)
            if full, let s = status {
                o["link"] = .string(s.link)
                o["unit_id"] = JSONValue(device.modbus.unitID)
                o["poll_interval"] = .number(device.pollInterval)
                o["last_success"] = JSONValue(s.lastSuccess)
                o["last_error"] = JSONValue(s.lastError)
                o["polls"] = JSONValue(s.pollsTotal)
                o["errors"] = JSONValue(s.pollErrorsTotal)
                o["late"] = JSONValue(s.pollsLateTotal)
                o["lag"] = .number(s.pollLag)
                o["overruns"] = JSONValue(s.pollOverrunsTotal)
                o["backoff"] = JSONValue(s.backoff)
                o["restarts"] = JSONValue(s.restartsTotal)
                o["requests_per_poll"] = JSONValue(s.requestsPerPoll)
                o["poll_duration"] = .number(s.pollDuration)
                o["quarantined"] = .array(s.quarantinedRegisters.map { .string($0) })
            }
            rows.append(.object(o))
        }
        // Stored runtime devices that cannot be loaded: failed, with the reason.
        for broken in view.unloadable.values.sorted(by: { $0.id < $1.id }) where only == nil || broken.id == only {
            let l = broken.labels
            rows.append(.object([
                "id": .string(l.id), "name": .string(l.name), "location": .string(l.location), "model": .string(l.model),
                "enabled": .bool(broken.enabled), "source": .string("runtime"), "state": .string(DeviceState.failed.rawValue),
                "up": .bool(false), "last_error": .string(broken.error),
            ]))
        }
        return rows
    }

    static func writeReport(_ report: WriteReport) -> JSONValue {
        let r = report.result
        var o: [String: JSONValue] = ["id": .string(report.heatpumpID), "register": .string(r.register), "requested": .number(r.requested),
                                      "previous": JSONValue(r.previous), "read_back": JSONValue(r.readBack), "verified": .bool(r.verified),
                                      "outcome": .string(r.outcome.rawValue), "audited": .bool(report.audited)]
        if let interval = report.refreshInterval { o["refresh_interval"] = .number(interval) }
        return .object(o)
    }

    static func job(_ s: ScheduledJob) -> JSONValue {
        let j = s.job
        return .object(["job": JSONValue(Double(j.id)), "heatpump_id": .string(j.heatpumpID), "register": .string(j.register), "value": .string(j.value),
                        "days": .string(j.schedule.daysText), "at": .string(j.schedule.timeText), "next_run": JSONValue(s.nextRun),
                        "last_run": JSONValue(j.lastRun), "client": .string(j.client)])
    }

    /// Connects to a device that is not added and reads every register once.
    private func test(spec: String) async throws -> JSONValue {
        let device = try control.validate(spec: spec)
        let config = control.configuration
        guard let model = config.models[device.model] else { throw ControlError("invalid_device", "unknown model \(device.model)") }
        let runtime = DeviceRuntime(device: device, model: model, polling: PollingSettings(config.collector.collector))
        let admitted = runningTests.withLock { running -> Bool in
            guard running < Self.maxConcurrentTests else { return false }
            running += 1
            return true
        }
        guard admitted else { throw ControlError("busy", "\(Self.maxConcurrentTests) tests are already running; try again shortly") }
        defer { runningTests.withLock { $0 -= 1 } }
        // A link of its own (never the polling link): a test can never delay a poll.
        let link = ModbusLink(endpoint: device.modbus.endpoint, loop: links.group.next(), throttle: links.throttle)
        defer { link.close() }
        let plan = runtime.polling.planner.plan(model.registers)
        let executor = PollExecutor(unitID: device.modbus.unitID, timeout: device.modbus.timeout, registers: model.registers)
        let started = Date()
        let outcome = try await executor.execute(plan, on: link)
        if let failure = outcome.failure { throw ControlError("device_error", failure.description) }
        return .object(["id": .string(device.id), "requests": JSONValue(outcome.requests), "duration": .number(Date().timeIntervalSince(started)),
                        "rejected": .array(outcome.rejected.map { .string(model.registers[$0].name) }), "values": .array(outcome.samples.map(Self.sample))])
    }
}
