import BlockingIO
import Foundation
import Synchronization
import Testing

/// The rule behind two double-release defects (a test's Unix socket client closed its descriptor in
/// a failing initializer and again in `deinit`; hpsim's RTU session freed its libmodbus context
/// the same way): a class initializer that throws after every stored property is set runs
/// `deinit`. Resources are therefore stored only once nothing can fail any more.
@Suite("resource ownership in throwing initializers", .harnessThreads)
struct ResourceOwnershipTests {
    final class Probe {
        static let deinits = Mutex(0)
        let value: Int
        init(throwAfterInit: Bool) throws {
            value = 1
            if throwAfterInit { throw POSIXError(.EIO) }
        }
        deinit { Self.deinits.withLock { $0 += 1 } }
    }

    @Test("a class initializer that throws after setting every stored property runs deinit")
    func deinitRunsAfterLateThrow() {
        let before = Probe.deinits.withLock { $0 }
        #expect(throws: POSIXError.self) { _ = try Probe(throwAfterInit: true) }
        #expect(Probe.deinits.withLock { $0 } == before + 1)
    }

    @Test("I/O pool threads carry their names in the kernel (ps -L, perf), not the process's or the cooperative pool's")
    func poolThreadNames() throws {
        let pool = IOThreadPool(maxThreads: 1, name: "hpm-probe")
        defer { pool.shutdown() }
        let strand = IOStrand(pool: pool)
        let done = DispatchSemaphore(value: 0)
        let comm = Mutex("")
        strand.enqueue {
            comm.withLock { $0 = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 10) == .success)
        #expect(comm.withLock { $0 } == "hpm-probe-1")
    }
}
