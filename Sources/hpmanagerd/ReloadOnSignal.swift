import Logging
import ServiceLifecycle
import Supervisor
import UnixSignals

/// Re-reads the configuration on every SIGHUP until graceful shutdown.
struct ReloadOnSignal: Service {
    let fleet: FleetService
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            logger.info("SIGHUP received; reloading configuration")
            notifier.send(["RELOADING=1", "MONOTONIC_USEC=\(SystemdNotifier.monotonicMicroseconds())", "STATUS=reloading configuration"])
            let outcome = await fleet.reload()
            let status: String
            switch outcome {
            case .success: status = "configuration reloaded"
            case .failure(let error): status = "reload rejected, running configuration kept: \(error.message)"
            }
            notifier.send(["READY=1", "STATUS=\(status)"])
        }
    }
}
