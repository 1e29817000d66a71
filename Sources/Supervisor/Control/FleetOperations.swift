import ControlProtocol
import DeviceActor
import Foundation
import HPCore
import Logging
import Sinks
import Synchronization

/// The typed operations both transports call (control socket and HTTP): Codable requests in,
/// Codable responses out, `CommandError` with a stable code on failure.
public final class FleetOperations: Sendable {
    public let control: FleetControl
    public let store: SQLiteStore?
    private let links: LinkRegistry
    /// `test` connects to devices nobody polls; a few at a time, so a flood of tests stays cheap.
    public static let maxConcurrentTests = 4
    private let runningTests = Mutex(0)
    public let version: String
    private let logger: Logger

    public init(control: FleetControl, store: SQLiteStore?, links: LinkRegistry, version: String,
                logger: Logger = Logger(label: "hpmanager.control")) {
        self.control = control
        self.store = store
        self.links = links
        self.version = version
        self.logger = logger
    }

    /// Any error an operation throws, as the `CommandError` clients see.
    public static func commandError(_ error: any Error) -> CommandError {
        switch error {
        case let error as CommandError: return error
        case let error as DeviceOperationError:
            switch error.code {
            case .unknownRegister: return CommandError(.unknownRegister, error.message)
            case .rejected: return CommandError(error.eepromBudget ? .eepromBudget : .rejected, error.message)
            case .deviceError: return CommandError(.deviceError, error.message)
            }
        default: return CommandError(.internal, "\(error)")
        }
    }

    // MARK: Fleet

    public func ping() -> PingResponse { PingResponse(version: version, protocol: controlProtocolVersion) }

    /// Every heat pump (`id` nil) or one; `detailed` adds the poll status fields.
    public func heatpumps(id: String? = nil, detailed: Bool) async throws -> HeatpumpsResponse {
        let rows = await summaries(id, full: detailed)
        if let id, rows.isEmpty { throw CommandError(.notFound, "no heat pump \(id)") }
        return HeatpumpsResponse(heatpumps: rows)
    }

    public func add(_ request: DeviceSpecRequest) async throws -> AddResponse {
        AddResponse(added: try await control.add(spec: try Self.text(request.device)).id)
    }

    public func update(_ request: UpdateRequest) async throws -> UpdateResponse {
        try CommandArguments.require(request.id, "id", command: "update")
        return UpdateResponse(updated: try await control.update(id: request.id, spec: try Self.text(request.device)).id)
    }

    public func remove(_ request: DeviceIDRequest) async throws -> RemoveResponse {
        try CommandArguments.require(request.id, "id", command: "remove")
        try await control.remove(id: request.id)
        return RemoveResponse(removed: request.id)
    }

    public func setEnabled(_ request: DeviceIDRequest, _ enabled: Bool) async throws -> EnableResponse {
        try CommandArguments.require(request.id, "id", command: enabled ? "enable" : "disable")
        try await control.setEnabled(id: request.id, enabled)
        return EnableResponse(id: request.id, enabled: enabled)
    }

    public func reload() async throws -> ReloadResponse {
        let diff = try await control.reload().get()
        return ReloadResponse(added: diff.added, removed: diff.removed, changed: diff.changed, unchanged: diff.unchanged.count)
    }

    // MARK: Devices

    public func read(_ request: ReadRequest) async throws -> ReadResponse {
        try CommandArguments.require(request.id, "id", command: "read")
        let samples = try await actor(request.id).readNow(request.registers ?? [])
        return ReadResponse(id: request.id, values: samples.map(Self.reading))
    }

    /// Validates, writes, reads back and audits one register; `client` names the caller in the audit.
    public func write(_ request: WriteRequest) async throws -> WriteResponse {
        try CommandArguments.require(request.id, "id", command: "write")
        try CommandArguments.require(request.register, "register", command: "write")
        try CommandArguments.require(request.value.text, "value", command: "write")
        let id = request.id, register = request.register, value = request.value.text, client = request.client ?? "control-socket"
        let actor = try await actor(id)
        do {
            let r = try await actor.write(register: register, value: value)
            // The write happened: a failed audit must not turn it into an error (the client would retry it).
            let audited = await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value, previous: r.previous.map { "\($0)" },
                                                      readBack: r.readBack.map { "\($0)" }, result: r.verified ? "ok" : "unverified",
                                                      message: r.verified ? "" : "read-back differs", client: client))
            return WriteResponse(id: id, register: register, requested: r.requested, previous: r.previous, readBack: r.readBack,
                                 verified: r.verified, audited: audited)
        } catch let error as DeviceOperationError {
            await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value, previous: nil, readBack: nil,
                                        result: error.code == .rejected ? "rejected" : "failed", message: error.message, client: client))
            throw Self.commandError(error)
        }
    }

    /// Connects to a device that is not added and reads every register once.
    public func test(_ request: DeviceSpecRequest) async throws -> TestResponse {
        let device = try control.validate(spec: try Self.text(request.device))
        let config = control.configuration
        guard let model = config.model(for: device) else { throw CommandError(.invalidDevice, "unknown model \(device.model)") }
        let runtime = DeviceRuntime(device: device, model: model, polling: PollingSettings(config.collector.collector))
        let admitted = runningTests.withLock { running -> Bool in
            guard running < Self.maxConcurrentTests else { return false }
            running += 1
            return true
        }
        guard admitted else { throw CommandError(.busy, "\(Self.maxConcurrentTests) tests are already running; try again shortly") }
        defer { runningTests.withLock { $0 -= 1 } }
        // A link of its own (never the polling link): a test can never delay a poll.
        let link = ModbusLink(endpoint: device.modbus.endpoint, loop: links.group.next(), throttle: links.throttle)
        defer { link.close() }
        let plan = runtime.polling.planner.plan(model.registers)
        let executor = PollExecutor(unitID: device.modbus.unitID, timeout: device.modbus.timeout, registers: model.registers)
        let started = Date()
        let outcome = try await executor.execute(plan, on: link)
        if let failure = outcome.failure { throw CommandError(.deviceError, failure.description) }
        return TestResponse(id: device.id, requests: outcome.requests, duration: Date().timeIntervalSince(started),
                            rejected: outcome.rejected.map { model.registers[$0].name }, values: outcome.samples.map(Self.reading))
    }

    // MARK: Models and the store

    public func models() -> ModelsResponse {
        ModelsResponse(models: control.configuration.models.values.sorted { $0.name < $1.name }.map { m in
            ModelSummary(name: m.name, manufacturer: m.manufacturer, description: m.description, registers: m.registers.count,
                         source: m.source.hasPrefix("builtin") ? "builtin" : m.source, setup: m.setup,
                         templates: m.templates.map { t in
                             TemplateSummary(key: t.key, label: t.label, instances: t.instances, defaultInstances: t.defaultInstances,
                                             registers: t.registers.count)
                         })
        })
    }

    public func alerts(_ request: AlertsRequest) async throws -> AlertsResponse {
        let rows = try await requireStore().alerts(heatpumpID: request.id, activeOnly: request.active ?? false)
        return AlertsResponse(alerts: rows.map { a in
            AlertRecord(rule: a.rule, heatpumpID: a.heatpumpID, severity: a.severity, raisedAt: a.raisedAt, resolvedAt: a.resolvedAt,
                        value: a.value, message: a.message)
        })
    }

    public func events(_ request: EventsRequest) async throws -> EventsResponse {
        let rows = try await requireStore().events(heatpumpID: request.id, since: request.since ?? 0)
        return EventsResponse(events: rows.map { EventRecord(at: $0.at, heatpumpID: $0.heatpumpID, kind: $0.kind, message: $0.message) })
    }

    public func history(_ request: HistoryRequest) async throws -> HistoryResponse {
        try CommandArguments.require(request.id, "id", command: "history")
        try CommandArguments.require(request.register, "register", command: "history")
        let points = try await requireStore().history(heatpumpID: request.id, register: request.register, since: request.since ?? 0)
        return HistoryResponse(points: points.map { [$0.at, $0.value] })
    }

    // MARK: Helpers

    public func requireStore() throws -> SQLiteStore {
        guard let store else { throw CommandError(.unavailable, "the SQLite store is not available") }
        return store
    }

    /// The running actor of `id`, or why there is none.
    public func actor(_ id: String) async throws -> DeviceActor {
        if let actor = await control.fleet.actor(for: id) { return actor }
        let view = control.view
        if let broken = view.unloadable[id] { throw CommandError(.failed, "\(id) cannot be loaded: \(broken.error)") }
        if view.configuration.device(id) != nil { throw CommandError(.disabled, "\(id) is disabled or not running") }
        throw CommandError(.notFound, "no heat pump \(id)")
    }

    /// A device spec as the text `FleetControl` validates (JSON is YAML).
    static func text(_ spec: DeviceSpec) throws -> String {
        switch spec {
        case .text(let text): return text
        case .object(let object): return String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
        }
    }

    public static func reading(_ s: Sample) -> RegisterReading {
        let value: RegisterReading.Value = if case .string(let text) = s.value { .text(text) } else { .number(s.value.doubleValue) }
        return RegisterReading(register: s.name, value: value, label: s.label, bits: s.bits.isEmpty ? nil : s.bits)
    }

    private func summaries(_ only: String?, full: Bool) async -> [HeatpumpSummary] {
        let view = control.view
        let boards = await control.fleet.statusBoards
        var rows: [HeatpumpSummary] = []
        for device in view.configuration.devices where only == nil || device.id == only {
            let status = boards[device.id]?.snapshot
            var row = HeatpumpSummary(id: device.id, name: device.name, location: device.location, model: device.model,
                                      manufacturer: view.configuration.models[device.model]?.manufacturer ?? "",
                                      enabled: device.enabled, source: view.source(of: device.id),
                                      state: device.enabled ? (status?.state.rawValue ?? "connecting") : "disabled", up: status?.up ?? false)
            if let s = status {
                row.lastSuccess = s.lastSuccess
                row.lastError = s.lastError
                row.errors = s.pollErrorsTotal
            }
            if full, let s = status {
                row.link = s.link
                row.unitID = device.modbus.unitID
                row.pollInterval = device.pollInterval
                row.polls = s.pollsTotal
                row.late = s.pollsLateTotal
                row.lag = s.pollLag
                row.overruns = s.pollOverrunsTotal
                row.backoff = s.backoff
                row.restarts = s.restartsTotal
                row.requestsPerPoll = s.requestsPerPoll
                row.pollDuration = s.pollDuration
                row.quarantined = s.quarantinedRegisters
            }
            rows.append(row)
        }
        // Stored runtime devices that cannot be loaded: failed, with the reason.
        for broken in view.unloadable.values.sorted(by: { $0.id < $1.id }) where only == nil || broken.id == only {
            let l = broken.labels
            var row = HeatpumpSummary(id: l.id, name: l.name, location: l.location, model: l.model, manufacturer: l.manufacturer,
                                      enabled: broken.enabled, source: "runtime", state: DeviceState.failed.rawValue, up: false)
            row.lastError = broken.error
            rows.append(row)
        }
        return rows
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
}
