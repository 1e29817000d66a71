import DeviceActor

extension FleetControl {
    /// The running actor of `id`, or why there is none (stable codes: failed, disabled, not_found).
    public func runningActor(_ id: String) async throws -> DeviceActor {
        if let actor = await fleet.actor(for: id) { return actor }
        let view = self.view
        if let broken = view.unloadable[id] { throw ControlError("failed", "\(id) cannot be loaded: \(broken.error)") }
        if view.configuration.device(id) != nil { throw ControlError("disabled", "\(id) is disabled or not running") }
        throw ControlError("not_found", "no heat pump \(id)")
    }
}
