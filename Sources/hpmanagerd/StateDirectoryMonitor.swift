import BlockingIO
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Checks every `interval` that the state directories still hold the lock files this daemon holds.
///
/// If a state directory is deleted or replaced while the daemon runs, SQLite keeps writing to the
/// unlinked files and everything since is lost at the next restart: say so loudly (one error per
/// episode, a recovery line if it comes back) and export `hpmanager_state_directory_ok`.
final class StateDirectoryMonitor: Service, DaemonMetricsSource {
    let locks: [StateDirectoryLock]
    let interval: Duration
    let logger: Logger
    private let intact: Mutex<[Bool]>

    init(locks: [StateDirectoryLock], interval: Duration = .seconds(1), logger: Logger) {
        self.locks = locks
        self.interval = interval
        self.logger = logger
        intact = Mutex(Array(repeating: true, count: locks.count))
    }

    /// The checks `stat` the lock files: on a thread of their own, since a hung mount (NFS) can
    /// block `stat` indefinitely, and on the cooperative pool that would stall every task.
    func run() async throws {
        let pool = IOThreadPool(maxThreads: 1, name: "state-dir-check")
        let strand = IOStrand(pool: pool)
        defer { pool.shutdown() }
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: self.interval)
                    try await strand.run { self.check() }
                }
            }
        } catch is CancellationError {}
    }

    func check() {
        for (index, lock) in locks.enumerated() {
            let now = lock.isIntact
            let before = intact.withLock { state in
                defer { state[index] = now }
                return state[index]
            }
            if before && !now {
                logger.error("state directory disappeared or was replaced; data written from now on is lost at restart: restore it and restart hpmanagerd",
                             metadata: ["path": "\(lock.directory)", "lock_file": "\(lock.path)"])
            } else if !before && now {
                logger.notice("state directory is back", metadata: ["path": "\(lock.directory)"])
            }
        }
    }

    func daemonMetrics() -> [DaemonMetric] {
        let states = intact.withLock { $0 }
        return zip(locks, states).map { lock, ok in
            DaemonMetric("hpmanager_state_directory_ok", help: "Whether the state directory still holds this daemon's lock file (0: deleted or replaced).",
                         labels: [("path", lock.directory)], value: ok ? 1 : 0)
        }
    }
}
