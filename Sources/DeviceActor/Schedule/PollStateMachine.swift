import HPCore

/// When a device polls next, as a pure function of poll results and time (no I/O, no clock).
///
/// Polls are due on a fixed grid `anchor + k × interval`. A poll that overruns its slot skips the
/// missed ticks (counted, never stacked). A failed poll enters backoff; the first success after it
/// re-joins the grid at the next tick.
public struct PollStateMachine: Sendable {
    public typealias Instant = ContinuousClock.Instant

    public private(set) var interval: Duration
    public private(set) var state: DeviceState = .connecting
    public private(set) var due: Instant
    public private(set) var overruns = 0
    public private(set) var backoff: Backoff
    private var anchor: Instant
    private let configuredInterval: Duration
    private let configuredAnchor: Instant

    /// - Parameter offset: where in the interval this device's slot lies (spreads devices out).
    public init(start: Instant, offset: Duration, interval: Duration, backoff: Backoff) {
        self.interval = interval
        self.backoff = backoff
        anchor = start + offset
        configuredAnchor = anchor
        configuredInterval = interval
        due = anchor
    }

    /// A stable slot offset in [0, interval) derived from the device id (FNV-1a).
    public static func spreadOffset(id: String, interval: Duration) -> Duration {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return interval * (Double(hash % 10_000) / 10_000)
    }

    /// Moves the schedule to a new grid `anchor + k × interval` (e.g. a stretched, evenly shared
    /// slot on a saturated bus); the next poll is the grid's first tick after the current due time.
    public mutating func reschedule(interval newInterval: Duration, anchor newAnchor: Instant) {
        guard newInterval > .zero, newInterval != interval || newAnchor != anchor else { return }
        interval = newInterval
        anchor = newAnchor
        due = firstTick(after: due - .nanoseconds(1))
    }

    /// Back to the configured interval and the device's own slot.
    public mutating func restoreSchedule() {
        reschedule(interval: configuredInterval, anchor: configuredAnchor)
    }

    /// The poll that was due finished successfully at `now`; returns when the next one is due.
    public mutating func pollSucceeded(now: Instant) -> Instant {
        let recovering = state != .polling
        state = .polling
        backoff.reset()
        if recovering {
            due = firstTick(after: now)
        } else {
            due += interval
            if due <= now {
                let skipped = Int(((now - due) / interval).rounded(.down)) + 1
                overruns += skipped
                due += interval * skipped
            }
        }
        return due
    }

    /// The poll failed at `now`; returns when to try again (`jitter` in [0, 1)).
    public mutating func pollFailed(now: Instant, jitter: Double) -> (retryAt: Instant, delay: Duration) {
        state = .backoff
        let delay = backoff.next(jitter: jitter)
        due = now + delay
        return (due, delay)
    }

    private func firstTick(after now: Instant) -> Instant {
        guard now >= anchor else { return anchor }
        let elapsed = (now - anchor) / interval
        return anchor + interval * (elapsed.rounded(.down) + 1)
    }
}
