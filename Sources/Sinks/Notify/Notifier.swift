import BlockingIO
import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Turns alert changes into messages and delivers them durably.
///
/// One routing loop owns the grouper (routes, groups, quiet hours, repeats) and writes each due
/// message into the SQLite outbox, one row per channel, before anything is sent. One loop per
/// channel then delivers that channel's rows oldest first on the channel's own I/O thread
/// (libcurl blocks there), records every attempt, and backs off exponentially while the receiver
/// fails; what is still pending at shutdown is sent after the next start. The outbox is bounded
/// by age and rows; what the bounds drop is counted.
///
/// `reconfigure` applies a reloaded `notify:` live: routes are swapped in the routing loop (groups
/// of unchanged routes keep their state), a channel whose settings changed restarts its loop with
/// its pending rows, removed channels stop and new ones start. Nothing queued is lost.
public final class Notifier: Service, DaemonMetricsSource {
    struct ChannelCounters {
        var sent = 0
        var failed = 0
        var refused = 0
        var dropped = 0
        var pending = 0
        var failingSince: Double?
    }

    /// The settings in force and a generation counted up by each `reconfigure`.
    private let current: Mutex<(settings: NotifySettings, generation: Int)>
    public var settings: NotifySettings { current.withLock { $0.settings } }
    private let site: String
    private let store: SQLiteStore
    private let logger: Logger
    private let version: String
    private let localZone: TimeZone
    private let tick: Duration
    private let incoming = Mutex<[AlertNotice]>([])
    private let counters: Mutex<[String: ChannelCounters]>
    /// Set per channel when its outbox may hold work (start, new rows).
    private let work: Mutex<Set<String>>
    private let stop = StopFlag()
    private let pool: IOThreadPool
    /// The loops wait on these instead of polling: new alerts and reloads ring the routing loop,
    /// reloads the channel supervisor, new outbox rows the channel loops, shutdown all of them.
    private let routingBell = Doorbell()
    private let supervisorBell = Doorbell()
    private let shutdownBell = Doorbell()
    private let channelBells = Mutex<[String: Doorbell]>([:])
    /// How long an idle loop sleeps before it looks again anyway (outbox pruning, a missed ring).
    static let idleWait = Duration.seconds(30)

    public init(settings: NotifySettings, site: String, store: SQLiteStore, version: String, logger: Logger,
                localZone: TimeZone = .current, tick: Duration = .milliseconds(100)) {
        current = Mutex((settings, 0))
        self.site = site
        self.store = store
        self.version = version
        self.localZone = localZone
        self.tick = tick
        var logger = logger
        logger[metadataKey: "sink"] = "notify"
        self.logger = logger
        let channels = Self.active(settings).channels
        counters = Mutex(Dictionary(channels.map { ($0.name, ChannelCounters()) }, uniquingKeysWith: { a, _ in a }))
        work = Mutex(Set(channels.map(\.name)))
        // Threads are started on demand, one per channel delivering at the same time.
        pool = IOThreadPool(maxThreads: Self.maxChannelThreads, name: "hpm-notify")
    }

    static let maxChannelThreads = 16

    /// The channels and routes in force: none while `enabled` is false.
    static func active(_ settings: NotifySettings) -> (channels: [NotifyChannel], routes: [NotifyRoute]) {
        settings.enabled ? (settings.channels, settings.routes) : ([], [])
    }

    /// Applies a reloaded `notify:` section (never blocks; it rings the loops, which pick it up at once).
    public func reconfigure(_ settings: NotifySettings) {
        current.withLock { $0 = (settings, $0.generation + 1) }
        routingBell.ring()
        supervisorBell.ring()
    }

    /// Called by the alert monitor for every raised or resolved alert (never blocks).
    public func alertChanged(_ transition: AlertTransition, device: DeviceLabels?, at: Double) {
        let notice: AlertNotice
        switch transition {
        case .raised(let rule, let id, let value, let message):
            notice = AlertNotice(rule: rule.name, severity: rule.severity, heatpumpID: id, name: device?.name ?? id, location: device?.location ?? "",
                                 site: site, message: message, value: value, startsAt: at)
        case .resolved(let rule, let id):
            notice = AlertNotice(rule: rule.name, severity: rule.severity, heatpumpID: id, name: device?.name ?? id, location: device?.location ?? "",
                                 site: site, message: "", startsAt: at, endsAt: at)
        case .restoring(let rule, let id, let value, let message, let since):
            notice = AlertNotice(rule: rule.name, severity: rule.severity, heatpumpID: id, name: device?.name ?? id, location: device?.location ?? "",
                                 site: site, message: message, value: value, startsAt: since, restored: true)
        }
        incoming.withLock { $0.append(notice) }
        routingBell.ring()
    }

    /// Stops every loop: sets the flag, then wakes whoever waits.
    private func stopAll() {
        stop.set()
        routingBell.ring()
        supervisorBell.ring()
        shutdownBell.ring()
        ringChannels()
    }

    /// Wakes the channel loops (all of them: a spurious wake-up only makes a loop look again).
    private func ringChannels() {
        for bell in channelBells.withLock({ Array($0.values) }) { bell.ring() }
    }

    public func run() async throws {
        defer { pool.shutdown() }
        do {
            try await refreshPending()
        } catch {
            logger.error("cannot read the notification outbox", metadata: ["error": "\(error)"])
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.channelSupervisor() }
            group.addTask { await self.routingLoop() }
            await withGracefulShutdownHandler {
                while !Task.isCancelled && !self.stop.isSet {
                    await self.shutdownBell.wait(atMost: Self.idleWait)
                }
            } onGracefulShutdown: {
                self.stopAll()
            }
            self.stopAll()
        }
    }

    // MARK: Routing

    private func routingLoop() async {
        var (settings, generation) = current.withLock { $0 }
        var grouper = NotificationGrouper(routes: Self.active(settings).routes, localZone: localZone)
        var lastPrune = 0.0
        while !stop.isSet {
            let now = Date().timeIntervalSince1970
            let latest = current.withLock { $0 }
            if latest.generation != generation {
                (settings, generation) = latest
                grouper.replaceRoutes(Self.active(settings).routes, now: now)
            }
            for notice in incoming.withLock({ q -> [AlertNotice] in defer { q.removeAll() }; return q }) {
                grouper.observe(notice, now: now)
            }
            for message in grouper.due(now: now) {
                guard let route = grouper.routes.first(where: { $0.name == message.route }) else { continue }
                do {
                    try await store.enqueueNotification(message, channels: route.channels)
                    logger.info("notification queued", metadata: [
                        "route": "\(route.name)", "group": "\(message.groupKey)", "status": "\(message.status)",
                        "firing": "\(message.firing.count)", "resolved": "\(message.resolved.count)", "channels": "\(route.channels.joined(separator: ","))",
                    ])
                    work.withLock { $0.formUnion(route.channels) }
                    ringChannels()
                    counters.withLock { c in for channel in route.channels { c[channel]?.pending += 1 } }
                } catch {
                    logger.error("cannot store a notification in the outbox", metadata: ["route": "\(route.name)", "error": "\(error)"])
                }
            }
            if now - lastPrune >= 30 {
                lastPrune = now
                do {
                    let dropped = try await store.pruneNotifications(now: now, maxAge: settings.outboxMaxAge, maxRows: settings.outboxMaxRows)
                    for (channel, n) in dropped where n > 0 {
                        logger.warning("notifications dropped by the outbox bounds", metadata: ["channel": "\(channel)", "dropped": "\(n)"])
                        counters.withLock { $0[channel]?.dropped += n }
                    }
                    try await refreshPending()
                } catch {
                    logger.error("cannot prune the notification outbox", metadata: ["error": "\(error)"])
                }
            }
            // With groups open, due times (group_wait, repeats, quiet hours) are checked every tick;
            // with none, only a new alert or a reload (both ring) can make anything due.
            await routingBell.wait(atMost: grouper.isIdle && incoming.withLock({ $0.isEmpty }) ? Self.idleWait : tick)
        }
    }

    private func refreshPending() async throws {
        let pending = try await store.pendingNotifications()
        counters.withLock { c in for name in c.keys { c[name]?.pending = pending[name] ?? 0 } }
    }

    // MARK: Delivery

    /// Runs one delivery loop per configured channel, and after a `reconfigure` stops the loops of
    /// removed or changed channels (each finishes or abandons its attempt; the row stays pending)
    /// before starting the new ones, so one channel never has two loops.
    private func channelSupervisor() async {
        var running: [String: (channel: NotifyChannel, stop: StopFlag, task: Task<Void, Never>)] = [:]
        var generation = -1
        while !stop.isSet {
            let latest = current.withLock { $0 }
            if latest.generation != generation {
                generation = latest.generation
                let wanted = Dictionary(Self.active(latest.settings).channels.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                for (name, loop) in running where wanted[name] != loop.channel {
                    loop.stop.set()
                    ringChannels()
                    await loop.task.value
                    running[name] = nil
                    if wanted[name] == nil {
                        counters.withLock { _ = $0.removeValue(forKey: name) }
                        logger.info("notification channel removed", metadata: ["channel": "\(name)"])
                    }
                }
                for (name, channel) in wanted.sorted(by: { $0.key < $1.key }) where running[name] == nil {
                    let own = StopFlag()
                    counters.withLock { if $0[name] == nil { $0[name] = ChannelCounters() } }
                    work.withLock { _ = $0.insert(name) }
                    running[name] = (channel, own, Task { await self.channelLoop(channel, own: own) })
                }
                if generation > 0 {
                    do { try await refreshPending() } catch { logger.error("cannot read the notification outbox", metadata: ["error": "\(error)"]) }
                }
            }
            await supervisorBell.wait(atMost: Self.idleWait)
        }
        for loop in running.values { loop.stop.set() }
        ringChannels()
        for loop in running.values { await loop.task.value }
    }

    private func channelLoop(_ channel: NotifyChannel, own: StopFlag) async {
        let strand = IOStrand(pool: pool)
        let stop = self.stop
        let sender = ChannelSender(channel: channel, version: version, shouldAbort: { stop.isSet || own.isSet })
        let bell = Doorbell()
        channelBells.withLock { $0[channel.name] = bell }
        defer { channelBells.withLock { if $0[channel.name] === bell { $0[channel.name] = nil } } }
        var failures = 0
        let meta: Logger.Metadata = ["channel": "\(channel.name)", "type": "\(channel.kind.rawValue)"]
        while !stop.isSet && !own.isSet {
            let settings = self.settings
            guard work.withLock({ $0.contains(channel.name) }) else {
                await bell.wait(atMost: Self.idleWait)
                continue
            }
            let next: OutboxMessage?
            do {
                next = try await store.nextNotification(channel: channel.name)
            } catch {
                logger.error("cannot read the notification outbox", metadata: meta.merging(["error": "\(error)"]) { a, _ in a })
                await pause(seconds: settings.retryInitial, own: own, bell: bell)
                continue
            }
            guard let message = next else {
                work.withLock { _ = $0.remove(channel.name) }
                continue
            }
            let outcome: DeliveryOutcome
            do {
                outcome = try await strand.run { sender.deliver(message, now: Date().timeIntervalSince1970) }
            } catch {
                break  // cancelled before it ran
            }
            if (stop.isSet || own.isSet) && outcome.kind != .delivered { break }  // aborted by shutdown or a reload: stays pending
            let now = Date().timeIntervalSince1970
            var delay = 0.0
            if outcome.kind == .retry {
                failures += 1
                delay = RetryDelay.doubling(failures: failures, retryAfter: outcome.retryAfter, min: settings.retryInitial, max: settings.retryMax,
                                            jitter: Double.random(in: 0.8...1.2))
            }
            do {
                try await store.recordNotificationAttempt(id: message.id, channel: channel.name, outcome: outcome, at: now, nextAttemptAt: now + delay)
            } catch {
                logger.error("cannot record a notification attempt", metadata: meta.merging(["error": "\(error)"]) { a, _ in a })
            }
            let recovered = counters.withLock { c -> (Double, Int)? in
                var entry = c[channel.name] ?? ChannelCounters()
                defer { c[channel.name] = entry }
                switch outcome.kind {
                case .delivered:
                    entry.sent += 1
                    entry.pending = max(0, entry.pending - 1)
                case .refused:
                    entry.failed += 1
                    entry.refused += 1
                    entry.pending = max(0, entry.pending - 1)
                case .retry:
                    entry.failed += 1
                }
                if outcome.kind == .retry {
                    if entry.failingSince == nil { entry.failingSince = now }
                    return nil
                }
                defer { entry.failingSince = nil }
                return entry.failingSince.map { ($0, failures) }
            }
            switch outcome.kind {
            case .delivered:
                logger.info("notification sent", metadata: meta.merging(["notification_id": "\(message.id)", "attempt": "\(message.attempts + 1)"]) { a, _ in a })
                if let (since, n) = recovered {
                    logger.notice("notification channel delivers again", metadata: meta.merging([
                        "failed_attempts": "\(n)", "outage_seconds": "\(Int(now - since))",
                    ]) { a, _ in a })
                }
                failures = 0
            case .refused:
                logger.error("notification refused by the receiver; not retried", metadata: meta.merging([
                    "notification_id": "\(message.id)", "error": "\(outcome.error)",
                ]) { a, _ in a })
                failures = 0
            case .retry:
                // One warning per failure episode, then debug lines: a dead receiver must not flood the log.
                let level: Logger.Level = failures == 1 ? .warning : .debug
                logger.log(level: level, "notification delivery failed; will retry", metadata: meta.merging([
                    "notification_id": "\(message.id)", "attempt": "\(message.attempts + 1)", "error": "\(outcome.error)",
                    "retry_in_seconds": "\(String(format: "%.1f", delay))",
                ]) { a, _ in a })
                await pause(seconds: delay, own: own, bell: bell)
            }
        }
        // The curl clients go on the strand they were used on (an SMTP QUIT waits for the server).
        try? await strand.runIgnoringCancellation { sender.close() }
    }

    /// Sleeps up to `seconds`, ending early on shutdown or when the channel's loop is stopped (both ring `bell`).
    private func pause(seconds: Double, own: StopFlag, bell: Doorbell) async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while !stop.isSet && !own.isSet && ContinuousClock.now < deadline {
            await bell.wait(atMost: deadline - ContinuousClock.now)
        }
    }

    // MARK: Metrics

    public func daemonMetrics() -> [DaemonMetric] {
        let snapshot = counters.withLock { $0 }
        var metrics: [DaemonMetric] = []
        for name in snapshot.keys.sorted() {
            guard let c = snapshot[name] else { continue }
            let labels = [("channel", name)]
            metrics.append(DaemonMetric("hpmanager_notifications_sent_total", help: "Notifications a channel delivered.", kind: .counter, labels: labels, value: Double(c.sent)))
            metrics.append(DaemonMetric("hpmanager_notifications_failed_total", help: "Failed notification delivery attempts (retried or refused).", kind: .counter,
                                        labels: labels, value: Double(c.failed)))
            metrics.append(DaemonMetric("hpmanager_notifications_dropped_total", help: "Undelivered notifications dropped by the outbox bounds (max_age, max_rows).",
                                        kind: .counter, labels: labels, value: Double(c.dropped)))
            metrics.append(DaemonMetric("hpmanager_notifications_outbox", help: "Notifications waiting in the outbox for delivery.", labels: labels, value: Double(c.pending)))
        }
        return metrics
    }
}
