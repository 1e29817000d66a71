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
    /// Every write (operator, HTTP, cyclic refresh, job, SG Ready, PV surplus) goes through it.
    public let writes: WriteControl
    private let logger: Logger

    /// - Parameter writes: the daemon's write control (persisted EEPROM budget, cyclic values, jobs);
    ///   nil makes one without a running schedule (writes still validated, budgeted and audited).
    public init(control: FleetControl, store: SQLiteStore?, links: LinkRegistry, version: String, writes: WriteControl? = nil,
                logger: Logger = Logger(label: "hpmanager.control")) {
        self.control = control
        self.store = store
        self.links = links
        self.version = version
        self.writes = writes ?? WriteControl(control: control, store: store, settings: control.configuration.collector.writes, logger: logger)
        self.logger = logger
    }

    /// Any error an operation throws, as the `CommandError` clients see.
    public static func commandError(_ error: any Error) -> CommandError {
        switch error {
        case let error as CommandError: return error
        case let error as DeviceOperationError:
            switch error.code {
            case .unknownRegister: return CommandError(.unknownRegister, error.message)
            case .rejected: return CommandError(.rejected, error.message)
            case .eepromBudget: return CommandError(.eepromBudget, error.message)
            case .deviceError: return CommandError(.deviceError, error.message)
            }
        default: return CommandError(.internal, "\(error)")
        }
    }

    // MARK: Fleet

    public func ping() -> PingResponse { PingResponse(version: version, protocol: controlProtocolVersion, storePath: store?.path) }

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

    /// Validates, writes, reads back and audits one register through the write control (EEPROM
    /// budget, pulse and cyclic classes); `client` names the caller in the audit.
    public func write(_ request: WriteRequest) async throws -> WriteResponse {
        try CommandArguments.require(request.id, "id", command: "write")
        try CommandArguments.require(request.register, "register", command: "write")
        if let value = request.value { try CommandArguments.require(value.text, "value", command: "write") }
        do {
            return Self.response(try await writes.write(id: request.id, register: request.register, value: request.value?.text,
                                                        client: request.client ?? "control-socket"))
        } catch {
            throw Self.commandError(error)
        }
    }

    /// Stops re-sending a cyclic register's wanted value.
    public func clearWanted(_ request: WriteRequest) async throws -> ClearResponse {
        try CommandArguments.require(request.id, "id", command: "write")
        try CommandArguments.require(request.register, "register", command: "write")
        try await writes.clear(id: request.id, register: request.register, client: request.client ?? "control-socket")
        return ClearResponse(id: request.id, register: request.register)
    }

    public func sgReady(_ request: SGReadyRequest) async throws -> SGReadyResponse {
        try CommandArguments.require(request.id, "id", command: "sg-ready")
        try CommandArguments.require(request.state, "state", command: "sg-ready")
        do {
            let reports = try await writes.sgReady(id: request.id, state: request.state, client: request.client ?? "control-socket")
            return SGReadyResponse(id: request.id, state: request.state, writes: reports.map(Self.response))
        } catch {
            throw Self.commandError(error)
        }
    }

    public func pvSurplus(_ request: PVSurplusRequest) async throws -> PVSurplusResponse {
        try CommandArguments.require(request.id, "id", command: "pv-surplus")
        guard request.kw.isFinite, request.productionKW?.isFinite ?? true else { throw CommandError(.badRequest, "pv-surplus: kw must be a finite number") }
        do {
            let reports = try await writes.pvSurplus(id: request.id, kilowatts: request.kw, productionKilowatts: request.productionKW,
                                                     client: request.client ?? "control-socket")
            return PVSurplusResponse(id: request.id, kw: request.kw, writes: reports.map(Self.response))
        } catch {
            throw Self.commandError(error)
        }
    }

    public func wanted(_ request: WantedRequest) async -> WantedResponse {
        WantedResponse(wanted: await writes.wanted().filter { request.id == nil || $0.key.heatpumpID == request.id }.map { w in
            WantedValue(heatpumpID: w.key.heatpumpID, register: w.key.register, value: w.value, refreshInterval: w.interval,
                        nextRefresh: w.next, client: w.client)
        })
    }

    public func jobs(_ request: JobsRequest) async throws -> JobsResponse {
        JobsResponse(jobs: await writes.jobs(heatpumpID: request.id).map(Self.record))
    }

    public func addJob(_ request: JobsRequest) async throws -> JobRecord {
        func need(_ value: String?, _ key: String) throws -> String {
            guard let value, !value.isEmpty else { throw CommandError(.badRequest, "jobs add needs \"\(key)\"") }
            return value
        }
        let job = try await writes.addJob(id: try need(request.id, "id"), register: try need(request.register, "register"),
                                          value: try need(request.value?.text, "value"), days: request.days ?? "daily",
                                          time: try need(request.at, "at"), client: request.client ?? "control-socket")
        return Self.record(job)
    }

    public func removeJob(_ request: JobsRequest) async throws -> JobRemovedResponse {
        guard let number = request.job.flatMap({ Int64(exactly: $0) }) else { throw CommandError(.badRequest, "jobs remove needs \"job\" (the job number)") }
        let job = try await writes.removeJob(number, client: request.client ?? "control-socket")
        return JobRemovedResponse(removed: job.id)
    }

    static func response(_ report: WriteReport) -> WriteResponse {
        let r = report.result
        return WriteResponse(id: report.heatpumpID, register: r.register, requested: r.requested, previous: r.previous, readBack: r.readBack,
                             verified: r.outcome == .verified, outcome: r.outcome.rawValue, audited: report.audited,
                             refreshInterval: report.refreshInterval)
    }

    static func record(_ s: ScheduledJob) -> JobRecord {
        let j = s.job
        return JobRecord(job: j.id, heatpumpID: j.heatpumpID, register: j.register, value: j.value, days: j.schedule.daysText,
                         at: j.schedule.timeText, nextRun: s.nextRun, lastRun: j.lastRun, client: j.client)
    }

    /// Connects to a device that is not added and reads once what its polls would read.
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
        let plan = runtime.planner.pollPlan(model)
        let executor = PollExecutor(unitID: device.modbus.unitID, timeout: device.modbus.timeout, registers: model.registers)
        let started = Date()
        let outcome = try await executor.execute(plan, on: link)
        if let failure = outcome.failure { throw CommandError(.deviceError, failure.description) }
        return TestResponse(id: device.id, requests: outcome.requests, duration: Date().timeIntervalSince(started),
                            rejected: outcome.rejected.map { model.registers[$0].name }, values: outcome.samples.map(Self.reading))
    }

    /// Probes `host:port` for a built-in model (shares the test limit: a few at a time).
    public func detect(_ request: DetectRequest) async throws -> DetectResponse {
        func whole(_ value: Double?, _ key: String, default fallback: Int, within range: ClosedRange<Int>) throws -> Int {
            guard let value else { return fallback }
            guard let number = Int(exactly: value), range.contains(number) else {
                throw CommandError(.badRequest, "detect: \"\(key)\" must be a whole number within \(range.lowerBound)-\(range.upperBound), found \(value)")
            }
            return number
        }
        let host = request.host
        guard !host.isEmpty, host.utf8.count <= 253, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw CommandError(.badRequest, "detect: \"host\" must be a host name or IP address")
        }
        let port = try whole(request.port, "port", default: 502, within: 1...65535)
        let unit = try whole(request.unit, "unit", default: 1, within: 0...255)
        let timeout = request.timeout ?? 1
        guard timeout.isFinite, (0.05...30).contains(timeout) else { throw CommandError(.badRequest, "detect: \"timeout\" must be within 0.05-30 s, found \(timeout)") }
        let admitted = runningTests.withLock { running -> Bool in
            guard running < Self.maxConcurrentTests else { return false }
            running += 1
            return true
        }
        guard admitted else { throw CommandError(.busy, "\(Self.maxConcurrentTests) tests or detections are already running; try again shortly") }
        defer { runningTests.withLock { $0 -= 1 } }
        let config = control.configuration
        let detection = DeviceDetection(host: host, port: port, unit: unit, timeout: timeout,
                                        polling: PollingSettings(config.collector.collector), logger: logger)
        return try await detection.run(models: config.models.values.sorted { $0.name < $1.name }, links: links)
    }

    // MARK: Models and the store

    public func models() -> ModelsResponse {
        ModelsResponse(models: control.configuration.models.values.sorted { $0.name < $1.name }.map { m in
            ModelSummary(name: m.name, manufacturer: m.manufacturer, description: m.description, registers: m.registers.count,
                         source: m.source.hasPrefix("builtin") ? "builtin" : m.source, setup: m.setup,
                         templates: m.templates.map { t in
                             TemplateSummary(key: t.key, label: t.label, instances: t.instances, defaultInstances: t.defaultInstances,
                                             registers: t.registers.count)
                         },
                         groups: m.groups.isEmpty ? nil : Self.groupSummaries(m))
        })
    }

    /// Each group of `model` with its register count over every template instance.
    static func groupSummaries(_ model: ModelDefinition) -> [GroupSummary] {
        let all = model.everyInstance.registers
        return model.groups.map { g in GroupSummary(name: g.name, description: g.description, registers: all.filter { $0.group == g.name }.count) }
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
        try await control.runningActor(id)
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
}

// MARK: Notifications

extension FleetOperations {
    /// The newest notifications (default 50, at most 1000) with their delivery attempts.
    public func notifications(_ request: NotificationsRequest) async throws -> NotificationsResponse {
        let limit = request.limit ?? 50
        guard (1...1000).contains(limit) else { throw CommandError(.badRequest, "limit must be within 1-1000, found \(limit)", field: "limit") }
        let rows = try await requireStore().notifications(limit: limit, channel: request.channel)
        return NotificationsResponse(notifications: rows.map { m, attempts in
            NotificationRecord(id: m.id, createdAt: m.createdAt, channel: m.channel, route: m.route, groupKey: m.groupKey, status: m.status,
                               severity: m.severity, title: m.title, state: m.state, nextAttemptAt: m.state == "pending" ? m.nextAttemptAt : nil,
                               lastError: m.lastError, doneAt: m.doneAt,
                               attempts: attempts.map { NotificationAttemptRecord(at: $0.at, ok: $0.ok, status: $0.httpStatus, error: $0.error, duration: $0.duration) })
        })
    }
}
