import Foundation
import ModbusKit
import Synchronization

/// The same-run floor for CPU per poll: a minimal blocking libmodbus poller on a thread of its own,
/// making the bench model's three requests per poll (no scheduler, no decoding, no sinks) against the
/// same simulator as the daemon, each device once per interval, evenly spread, or back to back with
/// interval 0 (the cost of a request alone, without waking from idle between polls). Its CPU is its own
/// thread's (CLOCK_THREAD_CPUTIME_ID), so the ratio against it is measured on this machine, in this
/// run, instead of against a number from another host.
final class FloorPoller: Sendable {
    /// The bench model's read plan (`BenchModel`): 30 int16 inputs at 0…58, 10 float32 holdings at
    /// 100…119, 10 uint16 inputs at 500…509; the daemon's planner merges them into these three.
    static let requests: [(input: Bool, address: Int, count: Int)] = [(true, 0, 59), (false, 100, 20), (true, 500, 10)]

    struct Totals {
        var polls = 0.0
        var failed = 0.0
        var cpuSeconds = 0.0
    }

    /// What the poller thread and its owner share.
    private final class Shared: Sendable {
        let totals = Mutex(Totals())
        let stopping = Atomic<Bool>(false)
        let failure = Mutex<String?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
    }

    private let shared = Shared()
    private let baseline: Totals

    /// Connects every device on the poller's own thread (a libmodbus context is used by one thread
    /// only, so the clients never leave it) and returns once a first interval has been polled.
    init(devices: [(host: String, port: Int, unit: Int)], interval: Double) throws {
        let shared = self.shared
        let thread = Thread {
            var clients: [ModbusClient] = []
            do {
                for device in devices {
                    let client = try ModbusClient(.tcp(host: device.host, port: device.port))
                    try client.setUnit(device.unit)
                    client.setResponseTimeout(seconds: 1)
                    try client.connect()
                    clients.append(client)
                }
            } catch {
                shared.failure.withLock { $0 = "floor poller: \(error)" }
            }
            shared.ready.signal()
            if shared.failure.withLock({ $0 }) == nil {
                Self.run(clients, interval: interval, shared: shared)
            }
            shared.done.signal()
        }
        thread.name = "floor-poller"
        thread.start()
        shared.ready.wait()
        if let message = shared.failure.withLock({ $0 }) {
            shared.done.wait()
            throw FloorPollerError(message: message)
        }
        Thread.sleep(forTimeInterval: interval > 0 ? interval : 1)  // one round polled: connections warm
        baseline = shared.totals.withLock { $0 }
    }

    /// Stops the thread and returns what it did since the end of its first interval.
    func stop() -> Totals {
        let now = shared.totals.withLock { $0 }
        shared.stopping.store(true, ordering: .releasing)
        shared.done.wait()
        return Totals(polls: now.polls - baseline.polls, failed: now.failed - baseline.failed,
                      cpuSeconds: now.cpuSeconds - baseline.cpuSeconds)
    }

    private static func run(_ clients: [ModbusClient], interval: Double, shared: Shared) {
        guard !clients.isEmpty else { return }
        let spacing = interval / Double(clients.count)
        var words: [UInt16] = []
        var due = Date().timeIntervalSinceReferenceDate
        var index = 0
        while !shared.stopping.load(ordering: .acquiring) {
            let wait = due - Date().timeIntervalSinceReferenceDate
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            var ok = true
            for request in requests {
                do { try clients[index].readRegisters(input: request.input, address: request.address, count: request.count, into: &words) } catch { ok = false }
            }
            let cpu = ThreadCPU.current()
            shared.totals.withLock {
                $0.polls += 1
                if !ok { $0.failed += 1 }
                $0.cpuSeconds = cpu
            }
            index = (index + 1) % clients.count
            due += spacing
        }
    }
}

struct FloorPollerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
