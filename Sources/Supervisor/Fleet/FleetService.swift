import HPCore
import ServiceLifecycle

/// Runs the fleet as a service: runs the command loop, applies the initial configuration, and on
/// graceful shutdown stops every device through the same loop; when the service is cancelled
/// instead, the loop ends and stops every device itself. Reloads and runtime changes go through
/// `control`.
public final class FleetService: Service {
    public let control: FleetControl

    public init(control: FleetControl) {
        self.control = control
    }

    public func run() async throws {
        async let loop: Void = control.run()
        do {
            try await control.start()
        } catch {
            await control.shutdown()
            await loop
            throw error
        }
        try? await gracefulShutdown()
        await control.shutdown()
        await loop
    }

    /// Re-reads the configuration directory and applies it; on error the running config stays.
    @discardableResult
    public func reload() async -> Result<ConfigDiff, ControlError> {
        await control.reload()
    }
}
