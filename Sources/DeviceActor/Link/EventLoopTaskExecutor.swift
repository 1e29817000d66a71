import NIOCore

/// Runs a task's nonisolated work (and the resumption of its continuations) on one event loop.
///
/// A continuation resumed from an event-loop callback would otherwise hop to the global pool and back
/// onto the loop: two thread wakes per Modbus request. With this preference (SE-0417) the device task
/// never leaves its link's loop. NIO 2.101 has no `TaskExecutor` of its own, so this small one adapts
/// `EventLoop.execute` (no wake-up when called on the loop itself).
public final class EventLoopTaskExecutor: TaskExecutor {
    public let loop: any EventLoop

    public init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
