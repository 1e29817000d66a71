import ControlProtocol
import Hummingbird

/// idm_logger's per-device dashboard route.
extension APIRoutes {
    func registerDashboard(on router: Router<APIRequestContext>) {
        router.get("/api/dashboards/heatpump/:id") { _, context in try await dashboard(try context.parameters.require("id")) }
    }

    private func dashboard(_ id: String) async throws -> Response {
        let device = try device(id)
        let configuration = control.configuration
        guard let summary = try await operations.heatpumps(id: id, detailed: true).heatpumps.first else {
            throw CommandError(.notFound, "no heat pump \(id)")
        }
        let alerts = operations.store == nil ? [] : try await operations.alerts(AlertsRequest(id: id, active: true)).alerts
        return try APIJSON.response(DashboardBody(heatpump: summary, registers: configuration.model(for: device)?.polledRegisters ?? [],
                                                  latest: feed.values(of: id), display: configuration.display, alerts: alerts))
    }
}
