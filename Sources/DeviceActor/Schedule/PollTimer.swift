import NIOCore

/// The device actor's poll (and retry) timer: one callback entry in the loop's timer heap, without the
/// promise, future and closures of a `scheduleTask` (SelectableEventLoop stores the handler inline).
/// It carries the sleep's generation, so a timer that fires after its sleep ended (cancelled) is a no-op.
struct PollTimer: NIOScheduledCallbackHandler, Sendable {
    let device: DeviceActor
    let generation: UInt64

    func handleScheduledCallback(eventLoop: some EventLoop) {
        device.assumeIsolated { $0.timerFired(generation) }
    }

    /// Explicit cancels end the sleep before cancelling the timer (this then finds nothing to do);
    /// a loop shutting down ends it here.
    func didCancelScheduledCallback(eventLoop: some EventLoop) {
        device.assumeIsolated { $0.timerCancelled(generation) }
    }
}
