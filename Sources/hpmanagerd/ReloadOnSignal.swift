import Logging
import ServiceLifecycle
import Supervisor
import UnixSignals

/// Re-reads the configuration on every SIGHUP until graceful shutdown.
struct ReloadOnSignal: Service {
    let fleet: FleetService
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP received; reloading configuration")
            _ = await fleet.reload()
        }
    }
}
