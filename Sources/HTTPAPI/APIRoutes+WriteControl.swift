import ControlProtocol
import Hummingbird

/// The socket's write-control operations over REST: SG Ready, PV surplus, scheduled jobs and the
/// cyclic values being re-sent. Operator role (the auth middleware refuses a viewer's POST/DELETE);
/// each write goes to the write audit with client `http:<token name>`.
extension APIRoutes {
    func registerWriteControl(on router: Router<APIRequestContext>) {
        router.post("/api/heatpumps/:id/sg-ready") { request, context in
            let id = try context.parameters.require("id")
            let body = try await APIJSON.decode(SGReadyBody.self, request, limit: settings.maxBodyBytes, operation: "sg-ready")
            _ = try device(id)
            context.logger.info("SG Ready requested", metadata: ["heatpump_id": "\(id)", "state": "\(body.state)"])
            return try APIJSON.response(try await operations.sgReady(SGReadyRequest(id: id, state: body.state, client: client(context))))
        }
        router.post("/api/heatpumps/:id/pv-surplus") { request, context in
            let id = try context.parameters.require("id")
            let body = try await APIJSON.decode(PVSurplusBody.self, request, limit: settings.maxBodyBytes, operation: "pv-surplus")
            _ = try device(id)
            context.logger.info("PV surplus requested", metadata: ["heatpump_id": "\(id)", "kw": "\(body.kw)"])
            return try APIJSON.response(try await operations.pvSurplus(
                PVSurplusRequest(id: id, kw: body.kw, productionKW: body.productionKW, client: client(context))))
        }
        router.get("/api/heatpumps/:id/jobs") { _, context in
            let id = try context.parameters.require("id")
            _ = try device(id)
            return try APIJSON.response(try await operations.jobs(JobsRequest(id: id)))
        }
        router.post("/api/heatpumps/:id/jobs") { request, context in
            let id = try context.parameters.require("id")
            let body = try await APIJSON.decode(JobBody.self, request, limit: settings.maxBodyBytes, operation: "jobs add")
            _ = try device(id)
            let job = try await operations.addJob(JobsRequest(action: "add", id: id, register: body.register, value: body.value, days: body.days,
                                                              at: body.at, client: client(context)))
            return try APIJSON.response(job, status: .created)
        }
        router.get("/api/jobs") { _, _ in try APIJSON.response(try await operations.jobs(JobsRequest())) }
        router.delete("/api/jobs/:job") { _, context in
            let text = try context.parameters.require("job")
            guard let number = Int64(text), number > 0 else { throw CommandError(.badRequest, "the job number must be a positive integer, found \"\(text)\"") }
            // Job numbers are SQLite row ids far below 2^53, where the request's Double is exact.
            guard number < 1 << 53 else { throw CommandError(.notFound, "no job #\(number)") }
            return try APIJSON.response(try await operations.removeJob(JobsRequest(action: "remove", job: Double(number), client: client(context))))
        }
        router.get("/api/wanted") { request, _ in
            let id = request.uri.queryParameters["id"].map(String.init)
            if let id { _ = try device(id) }
            return try APIJSON.response(await operations.wanted(WantedRequest(id: id)))
        }
        router.delete("/api/heatpumps/:id/wanted/:register") { _, context in
            let id = try context.parameters.require("id")
            _ = try device(id)
            return try APIJSON.response(try await operations.clearWanted(
                WriteRequest(id: id, register: try context.parameters.require("register"), value: nil, client: client(context), clear: true)))
        }
    }

    /// The audit's client: `http:<token name>` (`http:loopback` without tokens).
    private func client(_ context: APIRequestContext) -> String { context.caller?.auditName ?? "http" }
}
