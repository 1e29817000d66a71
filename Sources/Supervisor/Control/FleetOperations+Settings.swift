import ControlProtocol

extension FleetOperations {
    /// The running settings (secrets redacted), with where each live key's value comes from.
    public func settings() -> SettingsView {
        SettingsView(control.view)
    }

    /// Applies `request`'s changes (`set`, `reset`, and the differences of a nested `settings`
    /// body), all or nothing, and answers with the settings now running and the keys that changed.
    public func changeSettings(_ request: SettingsRequest) async throws -> SettingsView {
        var changes: [String: SettingChange] = [:]
        if let body = request.settings { changes = try SettingsView.changes(in: body, from: settings()) }
        for (key, value) in request.set ?? [:] { changes[key] = value == .null ? .reset : .set(value) }
        for key in request.reset ?? [] { changes[key] = .reset }
        let changed = changes.isEmpty ? [] : try await control.changeSettings(changes, client: request.client ?? "control-socket")
        var view = settings()
        view.changed = changed
        return view
    }
}
