import NIOCore

/// The poll and retry waits of every device actor on one event loop, grouped by the instant they end.
///
/// Poll waits end on shared ticks (`PollTick`), so at fleet scale thousands of devices wait for a few
/// hundred instants. With one entry per device in NIO's timer heap (5,000 per loop at 10,000
/// devices), every expiry sifted that heap, copying its entries with a retain and release each: ~4 % of
/// the daemon's CPU samples at 10,000 devices. Here each instant is one callback in the heap, and when
/// it fires every device due then is woken, in the order they went to sleep.
///
/// An actor on the loop's executor, like the links and devices that use it: they call it
/// synchronously (`assumeIsolated`) from their own isolation, never from another thread. A device's
/// wait is identified by the device and its sleep generation, so a wait that ended (cancelled) and a
/// later one of the same device are never confused.
public actor LoopTimers {
    struct Waiter {
        let device: DeviceActor
        let generation: UInt64
    }

    private struct Bucket {
        var waiters: [Waiter]
        var callback: NIOScheduledCallback?
    }

    /// The callback in NIO's timer heap for one instant (stored inline there: no promise, no closure).
    private struct Expiry: NIOScheduledCallbackHandler, Sendable {
        let timers: LoopTimers
        let instant: ContinuousClock.Instant

        func handleScheduledCallback(eventLoop: some EventLoop) {
            timers.assumeIsolated { $0.expired(instant) }
        }

        /// The loop shutting down ends the waits here. A bucket emptied by `remove` cancels its callback
        /// after taking it out, so this then finds nothing (and resumes nothing under the loop's lock).
        func didCancelScheduledCallback(eventLoop: some EventLoop) {
            timers.assumeIsolated { $0.cancelledByLoop(instant) }
        }
    }

    public nonisolated let loop: any EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }
    private var buckets: [ContinuousClock.Instant: Bucket] = [:]

    public init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Instants with at least one waiter (one timer-heap entry each).
    var pendingInstants: Int { buckets.count }

    /// Wakes `waiter.device` (`timerFired(generation)`) at `instant`; throws when the loop is shutting down.
    func add(_ waiter: Waiter, at instant: ContinuousClock.Instant) throws {
        if let index = buckets.index(forKey: instant) {
            buckets.values[index].waiters.append(waiter)
            return
        }
        let callback = try loop.scheduleCallback(in: TimeAmount(instant - ContinuousClock.now), handler: Expiry(timers: self, instant: instant))
        buckets[instant] = Bucket(waiters: [waiter], callback: callback)
    }

    /// Forgets a wait that ended otherwise (its task was cancelled); the last waiter of an instant
    /// takes its callback out of the heap.
    func remove(device: DeviceActor, generation: UInt64, at instant: ContinuousClock.Instant) {
        guard let index = buckets.index(forKey: instant) else { return }
        buckets.values[index].waiters.removeAll { $0.device === device && $0.generation == generation }
        guard buckets.values[index].waiters.isEmpty else { return }
        let bucket = buckets.remove(at: index).value
        bucket.callback?.cancel()
    }

    private func expired(_ instant: ContinuousClock.Instant) {
        guard let bucket = buckets.removeValue(forKey: instant) else { return }
        for waiter in bucket.waiters {
            waiter.device.assumeIsolated { $0.timerFired(waiter.generation) }
        }
    }

    private func cancelledByLoop(_ instant: ContinuousClock.Instant) {
        guard let bucket = buckets.removeValue(forKey: instant) else { return }
        for waiter in bucket.waiters {
            waiter.device.assumeIsolated { $0.timerCancelled(waiter.generation) }
        }
    }
}
