import Foundation
import Testing

/// The threads the tests' own code runs on, apart from Swift's cooperative pool.
///
/// The test harness blocks: it waits for child processes to exit, reads control-socket replies and
/// hpsim's control channel with timeouts, and runs `hpmanagerctl`, `promtool` and `curl` to
/// completion. On the cooperative pool (one thread per core, two on CI) two such waits at once stall
/// every other test in the process, and with it the in-process code under test: a cancelled device
/// actor seen to stop 3.5 s late, many tests finishing together after a stall. So every suite runs
/// its test functions here, where a blocked thread costs only its own test. What a test calls
/// directly (default actors, nonisolated async code, its child tasks) runs here too; the code under
/// test's own unstructured tasks, its event-loop actors and sink threads do not, and keep the pool.
/// (So these tests cannot notice production code blocking the pool from a directly called async
/// function; the daemon's own tests, which run it as a process, can.)
///
/// Hand-written because neither the standard library nor NIO offers a plain thread-pool
/// `TaskExecutor`; it is a locked job queue drained by a fixed set of threads.
final class HarnessExecutor: TaskExecutor, @unchecked Sendable {
    // `@unchecked Sendable`: `jobs` is only touched with `condition` locked; the threads are started once in init.
    static let shared = HarnessExecutor(threads: 48)

    private static let marker = "hpmanager.test-harness"
    /// Whether the calling thread is one of the harness threads (`Thread.name` reads the same on every thread on Linux).
    static var onHarnessThread: Bool { Thread.current.threadDictionary[marker] as? Bool == true }

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    /// - Parameter threads: more than the tests that run at once can block (six, a few waits each).
    init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { self.drain() }
            thread.name = "test-harness-\(index)"
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.withLock {
            jobs.append(unowned)
            condition.signal()
        }
    }

    private func drain() {
        Thread.current.threadDictionary[Self.marker] = true
        while true {
            let job: UnownedJob = condition.withLock {
                while jobs.isEmpty { condition.wait() }
                return jobs.removeFirst()
            }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs each test of a suite with `HarnessExecutor` as its task executor preference (see there).
struct HarnessThreads: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(HarnessExecutor.shared) { try await function() }
    }
}

extension Trait where Self == HarnessThreads {
    /// The suite's tests run on the harness threads, off Swift's cooperative pool.
    static var harnessThreads: Self { Self() }
}
