import DeviceActor
import Foundation

/// What is due when: refreshes of cyclic registers' wanted values and scheduled jobs. Pure state
/// driven by the caller's `now`, so tests step time instead of waiting for it.
struct WriteSchedule {
    struct Refresh: Sendable, Hashable {
        var value: String
        var interval: Double
        var next: Date
        var client: String
    }

    enum Action: Sendable, Hashable {
        case refresh(WriteLedger.Key, value: String)
        case job(WriteJob, scheduledFor: Date)
    }

    private(set) var refreshes: [WriteLedger.Key: Refresh] = [:]
    private(set) var jobs: [Int64: (job: WriteJob, next: Date?)] = [:]
    let calendar: Calendar

    init(calendar: Calendar) {
        self.calendar = calendar
    }

    /// A wanted value, first re-sent `interval` after `sentAt` (or at `sentAt` itself when it still has to reach the device).
    mutating func want(_ key: WriteLedger.Key, value: String, interval: Double, next: Date, client: String) {
        refreshes[key] = Refresh(value: value, interval: interval, next: next, client: client)
    }

    @discardableResult
    mutating func clear(_ key: WriteLedger.Key) -> Bool {
        refreshes.removeValue(forKey: key) != nil
    }

    /// Adds a job; its first run is the first firing after `now` (missed runs are never replayed).
    mutating func add(_ job: WriteJob, now: Date) {
        jobs[job.id] = (job, job.schedule.next(after: now, calendar: calendar))
    }

    @discardableResult
    mutating func remove(job id: Int64) -> WriteJob? {
        jobs.removeValue(forKey: id)?.job
    }

    func nextRun(of id: Int64) -> Date? { jobs[id]?.next }

    /// Everything due at `now`; each returned item is rescheduled (refresh: `now + interval`, job: its next firing).
    mutating func due(at now: Date) -> [Action] {
        var actions: [Action] = []
        for (key, r) in refreshes.sorted(by: { ($0.key.heatpumpID, $0.key.register) < ($1.key.heatpumpID, $1.key.register) }) where r.next <= now {
            actions.append(.refresh(key, value: r.value))
            refreshes[key]?.next = now.addingTimeInterval(r.interval)
        }
        for (id, entry) in jobs.sorted(by: { $0.key < $1.key }) {
            guard let next = entry.next, next <= now else { continue }
            actions.append(.job(entry.job, scheduledFor: next))
            jobs[id]?.next = entry.job.schedule.next(after: now, calendar: calendar)
            jobs[id]?.job.lastRun = now.timeIntervalSince1970
        }
        return actions
    }

    mutating func reschedule(_ key: WriteLedger.Key, next: Date) {
        refreshes[key]?.next = next
    }

    /// A refresh that did not reach the device is tried again sooner than a full interval.
    mutating func refreshFailed(_ key: WriteLedger.Key, at now: Date, retry: Double) {
        guard let r = refreshes[key] else { return }
        refreshes[key]?.next = now.addingTimeInterval(min(r.interval, retry))
    }

    /// The earliest instant anything is due.
    var nextWake: Date? {
        (refreshes.values.map(\.next) + jobs.values.compactMap(\.next)).min()
    }
}
