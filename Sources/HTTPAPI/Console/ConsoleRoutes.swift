import ControlProtocol
import HPCore
import Hummingbird
import Supervisor

/// The web console's page and files, plus the two endpoints it needs beyond the REST API:
/// `GET /api/console` (display.yml) and `POST /api/test` (a test read of a device not yet added).
struct ConsoleRoutes: Sendable {
    let operations: FleetOperations
    let settings: HTTPSettings

    func register(on router: Router<APIRequestContext>) {
        for path in ["/", "/index.html"] {
            router.get(RouterPath(path)) { request, _ in ConsoleAssets.response(ConsoleAssets.index, for: request) }
            router.head(RouterPath(path)) { request, _ in ConsoleAssets.response(ConsoleAssets.index, for: request) }
        }
        router.get("/console/:file") { request, context in try file(request, context) }
        router.head("/console/:file") { request, context in try file(request, context) }
        router.get("/api/console") { _, _ in try APIJSON.response(ConsoleDisplay(operations.control.configuration.display)) }
        router.post("/api/test") { request, _ in try await testUnsaved(request) }
    }

    private func file(_ request: Request, _ context: APIRequestContext) throws -> Response {
        let name = try context.parameters.require("file")
        guard let asset = ConsoleAssets.files[name] else { throw CommandError(.notFound, "no console file \(name)") }
        return ConsoleAssets.response(asset, for: request)
    }

    /// The add-device body (`POST /api/heatpumps`' shape), read once on a link of its own; nothing is stored.
    private func testUnsaved(_ request: Request) async throws -> Response {
        let body = try await APIJSON.decode(HeatpumpBody.self, request, limit: settings.maxBodyBytes, operation: "test")
        let id = body.id ?? HeatpumpBody.slug(body.name)
        let spec = try body.spec(id: id, models: operations.control.configuration.models)
        return try APIJSON.response(try await operations.test(DeviceSpecRequest(device: spec)))
    }
}
