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
                                  "read", "write", "test", "detect", "models", "alerts", "events", "history"]

    private let control: FleetControl
    private let store: SQLiteStore?
    private let links: LinkRegistry
    /// `test` connects to devices nobody polls; a few at a time, so a flood of tests stays cheap.
    public static let maxConcurrentTests = 4
    private let runningTests = Mutex(0)
    private let version: String
    private let logger: Logger

    public init(control: FleetControl, store: SQLiteStore?, links: LinkRegistry, version: String,
                logger: Logger = Logger(label: "hpmanager.control")) {
        self.logger = logger
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
        /// `write` takes the value as text (as typed) or as a JSON number or boolean.
        func valueText(_ key: String) throws -> String {
            switch args[key] {
            case .number(let number)? where number.isFinite:
                if let whole = Int64(exactly: number) { return String(whole) }
                return "\(number)"
            case .bool(let flag)?: return flag ? "true" : "false"
            case .string?, nil, .null?: return try string(key)
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
            return try await write(id: try string("id"), register: try string("register"), value: try valueText("value"),
                                   client: try optionalString("client") ?? "control-socket")
        case "test":
            return try await test(spec: try spec())
        case "detect":
            func integer(_ key: String, default value: Int, within range: ClosedRange<Int>) throws -> Int {
                guard let number = try optionalNumber(key) else { return value }
                guard let whole = Int(exactly: number), range.contains(whole) else {
                    throw ControlError("bad_request", "detect: \"\(key)\" must be a whole number within \(range.lowerBound)-\(range.upperBound), found \(number)")
                }
                return whole
            }
            let timeout = try optionalNumber("timeout") ?? 1
            guard (0.05...30).contains(timeout) else { throw ControlError("bad_request", "detect: \"timeout\" must be within 0.05-30 s, found \(timeout)") }
            return try await detect(host: try string("host"), port: try integer("port", default: 502, within: 1...65535),
                                    unit: try integer("unit", default: 1, within: 0...255), timeout: timeout)
        case "models":
            let config = control.configuration
            return .object(["models": .array(config.models.values.sorted { $0.name < $1.name }.map { m in
                .object(["name": .string(m.name), "manufacturer": .string(m.manufacturer), "description": .string(m.description),
                         "registers": JSONValue(m.registers.count), "source": .string(m.source.hasPrefix("builtin") ? "builtin" : m.source),
                         "setup": .string(m.setup),
                         "templates": .array(m.templates.map { t in
                             .object(["key": .string(t.key), "label": .string(t.label), "instances": .array(t.instances.map { .string($0) }),
                                      "default": .array(t.defaultInstances.map { .string($0) }), "registers": JSONValue(t.registers.count)])
                         })])
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
        if let actor = await control.fleet.actor(for: id) { return actor }
        let view = control.view
        if let broken = view.unloadable[id] { throw ControlError("failed", "\(id) cannot be loaded: \(broken.error)") }
        if view.configuration.device(id) != nil { throw ControlError("disabled", "\(id) is disabled or not running") }
        throw ControlError("not_found", "no heat pump \(id)")
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

    private func write(id: String, register: String, value: String, client: String) async throws -> JSONValue {
        let actor = try await actor(id)
        do {
            let r = try await actor.write(register: register, value: value)
            // The write happened: a failed audit must not turn it into an error (the client would retry it).
            let audited = await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value, previous: r.previous.map { "\($0)" },
                                                      readBack: r.readBack.map { "\($0)" }, result: r.verified ? "ok" : "unverified",
                                                      message: r.verified ? "" : "read-back differs", client: client))
            return .object(["id": .string(id), "register": .string(register), "requested": .number(r.requested),
                            "previous": JSONValue(r.previous), "read_back": JSONValue(r.readBack), "verified": .bool(r.verified),
                            "audited": .bool(audited)])
        } catch let error as DeviceOperationError {
            await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value, previous: nil, readBack: nil,
                                        result: error.code == .rejected ? "rejected" : "failed", message: error.message, client: client))
            throw error
        }
    }

    /// Stores an audit row; a failure is logged with the write it concerns and reported as false.
    @discardableResult
    private func audit(_ entry: WriteAuditEntry) async -> Bool {
        guard let store else { return false }
        do {
            try await store.audit(entry)
            return true
        } catch {
            logger.error("write audit not stored", metadata: [
                "heatpump_id": "\(entry.heatpumpID)", "register": "\(entry.register)", "result": "\(entry.result)", "error": "\(error)",
            ])
            return false
        }
    }

    /// Probes HOST:PORT with each model's `detect:` registers and proposes a model with its fitted
    /// circuits/zones (shares the `test` limit: both open links of their own).
    private func detect(host: String, port: Int, unit: Int, timeout: Double) async throws -> JSONValue {
        guard !host.isEmpty, host.utf8.count <= 253, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw ControlError("bad_request", "detect: \"host\" must be a host name or IP address")
        }
        let admitted = runningTests.withLock { running -> Bool in
            guard running < Self.maxConcurrentTests else { return false }
            running += 1
            return true
        }
        guard admitted else { throw ControlError("busy", "\(Self.maxConcurrentTests) tests or detections are already running; try again shortly") }
        defer { runningTests.withLock { $0 -= 1 } }
        let config = control.configuration
        let detection = DeviceDetection(host: host, port: port, unit: unit, timeout: timeout,
                                        polling: PollingSettings(config.collector.collector), logger: logger)
        return try await detection.run(models: config.models.values.sorted { $0.name < $1.name }, links: links)
    }

    /// Connects to a device that is not added and reads every register once.
    private func test(spec: String) async throws -> JSONValue {
        let device = try control.validate(spec: spec)
        let config = control.configuration
        guard let model = config.model(for: device) else { throw ControlError("invalid_device", "unknown model \(device.model)") }
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
