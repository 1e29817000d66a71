import Hummingbird

/// idm_logger's manufacturer → model → setup routes, for the add-device wizard.
extension APIRoutes {
    func registerCatalog(on router: Router<APIRequestContext>) {
        router.get("/api/manufacturers") { _, _ in try APIJSON.response(operations.manufacturers()) }
        router.get("/api/manufacturers/:m/models") { _, context in
            try APIJSON.response(try operations.models(ofManufacturer: try context.parameters.require("m")))
        }
        router.get("/api/manufacturers/:m/models/:model/setup") { _, context in
            try APIJSON.response(try operations.setup(manufacturer: try context.parameters.require("m"), model: try context.parameters.require("model")))
        }
    }
}
