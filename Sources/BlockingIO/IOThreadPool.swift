import DequeModule
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// A bounded pool of OS threads for blocking C calls (libmodbus), kept off Swift's cooperative pool.
///
/// Work arrives as `IOStrand`s: serial job queues. A strand with pending jobs is queued here and one
/// pool thread runs one of its jobs at a time, so jobs of one strand never overlap while different
/// strands run in parallel. A strand blocked in a timeout holds one thread only; threads are created
/// on demand up to `maxThreads`.
///
/// `@unchecked Sendable`: `ready`, `threads`, `idle` and `stopping` are only accessed under `condition`.
public final class IOThreadPool: @unchecked Sendable {
    public let maxThreads: Int
    private let name: String
    private let condition = NSCondition()
    private var ready = Deque<IOStrand>()
    private var threads = 0
    private var idle = 0
    private var stopping = false

    public init(maxThreads: Int, name: String = "hpm-io") {
        self.maxThreads = max(1, maxThreads)
        self.name = name
    }

    /// Threads started so far.
    public var threadCount: Int { condition.withLock { threads } }

    func schedule(_ strand: IOStrand) {
        condition.lock()
        ready.append(strand)
        if idle > 0 {
            condition.signal()
        } else if threads < maxThreads {
            threads += 1
            let threadName = "\(name)-\(threads)"
            let thread = Thread { [self] in
                Self.nameCurrentThread(threadName)
                workerLoop()
            }
            thread.name = threadName
            thread.stackSize = 512 * 1024
            thread.start()
        }
        condition.unlock()
    }

    /// Names the calling thread for the kernel (`ps -L`, `top -H`, `perf`, /proc/PID/task/*/comm):
    /// Foundation's `Thread.name` on Linux does not reach it, so every pool thread showed the
    /// cooperative pool's name. Written to /proc/thread-self/comm (what `prctl(PR_SET_NAME)` sets;
    /// `pthread_setname_np` is not visible to Swift here); the kernel keeps 15 bytes. Best effort.
    static func nameCurrentThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    /// Lets idle threads exit; queued jobs still run.
    public func shutdown() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
    }

    private func workerLoop() {
        while true {
            condition.lock()
            while ready.isEmpty && !stopping {
                idle += 1
                condition.wait()
                idle -= 1
            }
            guard let strand = ready.popFirst() else {
                threads -= 1
                condition.unlock()
                return
            }
            condition.unlock()
            strand.runNext()
        }
    }
}

/// A serial queue of blocking jobs executed on an `IOThreadPool`.
///
/// `@unchecked Sendable`: `jobs` and `scheduled` are only accessed under `lock`; jobs run one at a time.
public final class IOStrand: @unchecked Sendable {
    private let pool: IOThreadPool
    private let lock = NSLock()
    private var jobs = Deque<@Sendable () -> Void>()
    private var scheduled = false

    public init(pool: IOThreadPool) {
        self.pool = pool
    }

    /// Queues a job; a `priority` job runs before the strand's other waiting jobs (operator reads/writes).
    public func enqueue(priority: Bool = false, _ job: @escaping @Sendable () -> Void) {
        let mustSchedule = lock.withLock { () -> Bool in
            if priority { jobs.prepend(job) } else { jobs.append(job) }
            if scheduled { return false }
            scheduled = true
            return true
        }
        if mustSchedule { pool.schedule(self) }
    }

    /// Runs one job, then re-queues the strand behind others if more are pending (fairness).
    func runNext() {
        guard let job = lock.withLock({ jobs.popFirst() }) else {
            lock.withLock { scheduled = false }
            return
        }
        job()
        let more = lock.withLock { () -> Bool in
            if jobs.isEmpty { scheduled = false; return false }
            return true
        }
        if more { pool.schedule(self) }
    }

    /// Runs `body` on the strand and returns its result to the awaiting task. A job still queued
    /// when the task is cancelled is skipped (a job already running finishes: C calls cannot be interrupted).
    /// The result resumes the caller in its own isolation (`isolation`), not on the global pool.
    public func run<T: Sendable>(priority: Bool = false, isolation: isolated (any Actor)? = #isolation,
                                 _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let cancelled = CancelFlag()
        return try await withTaskCancellationHandler { [isolation] in
            _ = isolation
            return try await withCheckedThrowingContinuation { continuation in
                enqueue(priority: priority) {
                    if cancelled.value.load(ordering: .acquiring) {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        continuation.resume(with: Result { try body() })
                    }
                }
            }
        } onCancel: {
            cancelled.value.store(true, ordering: .releasing)
        }
    }

    /// Runs `body` on the strand and waits for it even when the calling task is cancelled: for a
    /// sink's last flush, which must reach the disk whatever ended the service.
    public func runIgnoringCancellation<T: Sendable>(isolation: isolated (any Actor)? = #isolation,
                                                     _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation(isolation: isolation) { continuation in
            enqueue { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// Set when the task waiting for a queued job is cancelled.
private final class CancelFlag: Sendable {
    let value = Atomic<Bool>(false)
}
