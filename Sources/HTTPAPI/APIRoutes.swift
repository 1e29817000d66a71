import ControlProtocol
import Foundation
import HPCore
import Hummingbird
import Logging
import NIOCore
import Sinks
import Supervisor

/// The REST routes: each decodes its input, calls the typed `FleetOperations` the socket also
/// calls, and encodes the typed result.
struct APIRoutes: Sendable {
    let operations: FleetOperations
    let feed: LiveFeed
    let metrics: MetricsFileSink?
    let settings: HTTPSettings
    let logger: Logger

    var control: FleetControl { operations.control }

    func register(on router: Router<APIRequestContext>) {
        router.get("/health") { _, _ in try await health() }
        router.get("/metrics") { _, _ in try await metricsText() }
        router.get("/api/openapi.json") { _, _ in openAPI() }

        router.get("/api/heatpumps") { _, _ in try APIJSON.response(try await operations.heatpumps(detailed: false).heatpumps) }
        router.post("/api/heatpumps") { request, context in try await add(request, context) }
        router.get("/api/heatpumps/:id") { _, context in try await details(try context.parameters.require("id")) }
        router.put("/api/heatpumps/:id") { request, context in try await replace(request, context) }
        router.patch("/api/heatpumps/:id") { request, context in try await patch(request, context) }
        router.delete("/api/heatpumps/:id") { _, context in
            let id = try context.parameters.require("id")
            let result = try await operations.remove(DeviceIDRequest(id: id))
            audit(context, "device_removed", id)
            return try APIJSON.response(result)
        }
        router.post("/api/heatpumps/:id/test") { _, context in try await testDevice(try context.parameters.require("id")) }
        router.post("/api/heatpumps/:id/enable") { request, context in
            let id = try context.parameters.require("id")
            let body = try await APIJSON.decode(EnableBody.self, request, limit: settings.maxBodyBytes, operation: "enable")
            let result = try await operations.setEnabled(DeviceIDRequest(id: id), body.enabled)
            audit(context, body.enabled ? "device_enabled" : "device_disabled", id)
            return try APIJSON.response(result)
        }
        router.get("/api/heatpumps/:id/history") { request, context in try await history(request, try context.parameters.require("id")) }
        router.get("/api/heatpumps/:id/state-changes") { request, context in
            try await stateChanges(request, try context.parameters.require("id"))
        }

        router.get("/api/data/all") { _, _ in try APIJSON.response(feed.allValues()) }
        router.get("/api/data/:id") { _, context in
            let id = try context.parameters.require("id")
            _ = try device(id)
            let latest = feed.values(of: id)
            return try APIJSON.response(DataResponse(id: id, timestamp: latest?.timestamp, values: latest?.values ?? [:]))
        }
        router.post("/api/control/:id") { request, context in
            let id = try context.parameters.require("id")
            let body = try await APIJSON.decode(ControlBody.self, request, limit: settings.maxBodyBytes, operation: "control")
            let caller = context.caller?.auditName ?? "http"
            context.logger.info("write requested", metadata: ["heatpump_id": "\(id)", "register": "\(body.sensor)"])
            return try APIJSON.response(try await operations.write(WriteRequest(id: id, register: body.sensor, value: body.value, client: caller)))
        }

        router.get("/api/models") { _, _ in try APIJSON.response(operations.models().models) }
        router.get("/api/registers/:model") { _, context in
            let name = try context.parameters.require("model")
            guard let model = control.configuration.models[name] else { throw CommandError(.notFound, "no model \(name)") }
            return try APIJSON.response(model.registers.map { RegisterInfo($0, in: model) })
        }
        router.get("/api/alerts") { request, _ in
            let q = request.uri.queryParameters
            return try APIJSON.response(try await operations.alerts(AlertsRequest(id: q["id"].map(String.init), active: try Query.bool(q["active"], "active"))))
        }
        router.get("/api/notifications") { request, _ in
            let q = request.uri.queryParameters
            let limit = try Query.number(q["limit"], "limit", within: 1...1000).map { Int($0) }
            return try APIJSON.response(try await operations.notifications(NotificationsRequest(limit: limit, channel: q["channel"].map(String.init))))
        }
        router.get("/api/events") { request, _ in
            let q = request.uri.queryParameters
            let since = try Query.number(q["since"], "since", within: 0...1e11)
            return try APIJSON.response(try await operations.events(EventsRequest(id: q["id"].map(String.init), since: since)))
        }
        router.get("/api/stream") { _, _ in try stream() }
        router.get("/api/settings") { _, _ in try APIJSON.response(operations.settings()) }
        router.put("/api/settings") { request, context in try await changeSettings(request, context) }
        registerCatalog(on: router)
        registerDashboard(on: router)
        registerWriteControl(on: router)
    }

    // MARK: Handlers

    private func health() async throws -> Response {
        let rows = try await operations.heatpumps(detailed: false).heatpumps
        let enabled = rows.filter(\.enabled)
        return try APIJSON.response(Health(status: "ok", version: operations.version, heatpumps: rows.count,
                                           enabled: enabled.count, up: enabled.filter(\.up).count))
    }

    private func metricsText() async throws -> Response {
        guard let metrics else { throw CommandError(.unavailable, "metrics_file is disabled; /metrics renders the same text") }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        let bytes = try await metrics.renderForScrape()
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func openAPI() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: PackageResources.openapi_json)))
    }

    private func stream() throws -> Response {
        guard let events = feed.subscribe() else {
            throw CommandError(.busy, "\(feed.maxClients) event streams are already open")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(asyncSequence: events))
    }

    /// `PUT /api/settings`: the GET shape with changed values (admin only), all or nothing.
    private func changeSettings(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        guard let caller = context.caller, caller.mayChangeSettings else {
            let who = context.caller.map { "token \"\($0.name)\" has role \($0.role.rawValue)" } ?? "this caller"
            throw CommandError(.forbidden, "\(who); changing settings needs admin")
        }
        let body = try await APIJSON.body(request, limit: settings.maxBodyBytes)
        let submitted = try ControlProtocolBridge.decode(JSONValue.self, body, "settings")
        let result = try await operations.changeSettings(SettingsRequest(action: "set", settings: submitted, client: caller.settingsAuditName))
        if let changed = result.changed, !changed.isEmpty {
            context.logger.info("settings changed over HTTP", metadata: ["settings": "\(changed.joined(separator: ", "))"])
        }
        return try APIJSON.response(result)
    }

    private func add(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let body = try await APIJSON.decode(HeatpumpBody.self, request, limit: settings.maxBodyBytes, operation: "add")
        let view = control.view
        var id = body.id ?? HeatpumpBody.slug(body.name)
        if body.id == nil {
            var n = 2
            let base = id
            while view.configuration.device(id) != nil || view.unloadable[id] != nil { id = "\(base)-\(n)"; n += 1 }
        }
        let spec = try body.spec(id: id, models: view.configuration.models)
        let result = try await operations.add(DeviceSpecRequest(device: spec))
        audit(context, "device_added", result.added)
        return try APIJSON.response(AddedBody(id: result.added), status: .created)
    }

    private func replace(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await APIJSON.decode(HeatpumpBody.self, request, limit: settings.maxBodyBytes, operation: "update")
        if let given = body.id, given != id { throw CommandError(.badRequest, "the body's id \(given) differs from the path's \(id)") }
        _ = try device(id)
        let result = try await operations.update(UpdateRequest(id: id, device: try body.spec(id: id, models: control.configuration.models)))
        audit(context, "device_updated", id)
        return try await details(result.updated)
    }

    private func patch(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let body = try await APIJSON.decode(HeatpumpPatch.self, request, limit: settings.maxBodyBytes, operation: "patch")
        let current = try device(id)
        let onlyEnabled = body.name == nil && body.location == nil && body.model == nil && body.pollInterval == nil && body.connection == nil
            && body.config == nil
        if onlyEnabled, let enabled = body.enabled {
            // Works for heatpumps.yml devices too (stored as an override, like the socket's enable/disable).
            _ = try await operations.setEnabled(DeviceIDRequest(id: id), enabled)
            audit(context, enabled ? "device_enabled" : "device_disabled", id)
        } else if !onlyEnabled {
            _ = try await operations.update(UpdateRequest(id: id, device: .object(DeviceEntry.patched(current, body))))
            audit(context, "device_updated", id)
        }
        return try await details(id)
    }

    private func details(_ id: String) async throws -> Response {
        let summary = try await operations.heatpumps(id: id, detailed: true).heatpumps[0]
        let model = control.configuration.device(id).flatMap { control.configuration.model(for: $0) }
        let derived = HeatpumpDetails.derivedValues(model?.derived ?? DerivedInputs(), latest: feed.values(of: id)?.values ?? [:])
        return try APIJSON.response(HeatpumpDetails(summary: summary, registers: model.map { m in m.registers.map { RegisterInfo($0, in: m) } } ?? [], derived: derived))
    }

    private func testDevice(_ id: String) async throws -> Response {
        let current = try device(id)
        return try APIJSON.response(try await operations.test(DeviceSpecRequest(device: .object(DeviceEntry.entry(current)))))
    }

    private func history(_ request: Request, _ id: String) async throws -> Response {
        let q = request.uri.queryParameters
        let minutes = try Query.number(q["minutes"], "minutes", within: 1...525_600) ?? 30
        let current = try device(id)
        let since = Date().timeIntervalSince1970 - minutes * 60
        let names = q["register"].map { [String($0)] } ?? (control.configuration.model(for: current)?.polledRegisters.map(\.name) ?? [])
        var series: [String: [[Double]]] = [:]
        for name in names {
            let points = try await operations.history(HistoryRequest(id: id, register: name, since: since)).points
            if !points.isEmpty { series[name] = points }
        }
        return try APIJSON.response(HistoryBody(id: id, minutes: minutes, series: series))
    }

    private func stateChanges(_ request: Request, _ id: String) async throws -> Response {
        let q = request.uri.queryParameters
        let hours = try Query.number(q["hours"], "hours", within: 1...8760) ?? 24
        let current = try device(id)
        let since = Date().timeIntervalSince1970 - hours * 3600
        let registers = (control.configuration.model(for: current)?.registers ?? []).filter { !$0.enumValues.isEmpty || $0.dataType == .bool }
        var changes: [StateChange] = []
        for register in registers {
            let points = try await operations.history(HistoryRequest(id: id, register: register.name, since: since)).points
            guard let change = StateChange.last(register: register, points: points) else { continue }
            changes.append(change)
        }
        return try APIJSON.response(StateChangesBody(id: id, hours: hours, changes: changes))
    }

    /// The configured device `id`, or 404.
    func device(_ id: String) throws -> DeviceConfig {
        guard let device = control.configuration.device(id) else {
            if control.view.unloadable[id] != nil { throw CommandError(.failed, "\(id) is stored but cannot be loaded") }
            throw CommandError(.notFound, "no heat pump \(id)")
        }
        return device
    }

    /// Device changes go to the event log with the caller's token name (writes go to the write audit).
    func audit(_ context: APIRequestContext, _ kind: String, _ id: String) {
        let who = context.caller?.auditName ?? "http"
        operations.store?.recordEvent(kind: "http_change", heatpumpID: id, message: "\(kind) by \(who)")
        context.logger.info("device changed over HTTP", metadata: ["heatpump_id": "\(id)", "change": "\(kind)"])
    }
}
