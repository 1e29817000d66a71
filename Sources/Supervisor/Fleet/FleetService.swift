import HPCore
import ServiceLifecycle

/// Runs the fleet as a service: applies the initial configuration, and stops every device on
/// graceful shutdown. Reloads and runtime changes go through `control`.
public final class FleetService: Service {
    public let control: FleetControl

    public init(control: FleetControl) {
        self.control = control
    }

    public func run() async throws {
        await control.start()
        try? await gracefulShutdown()
        await control.fleet.stopAll()
    }

    /// Re-reads the configuration directory and applies it; on error the running config stays.
    @discardableResult
    public func reload() async -> Result<ConfigDiff, ConfigErrors> {
        await control.reload()
    }
}
