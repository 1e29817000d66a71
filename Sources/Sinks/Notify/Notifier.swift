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
public final class Notifier: Service, DaemonMetricsSource {
    struct ChannelCounters {
        var sent = 0
        var failed = 0
        var refused = 0
        var dropped = 0
        var pending = 0
        var failingSince: Double?
    }

    public let settings: NotifySettings
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

    public init(settings: NotifySettings, site: String, store: SQLiteStore, version: String, logger: Logger,
                localZone: TimeZone = .current, tick: Duration = .milliseconds(100)) {
        self.settings = settings
        self.site = site
        self.store = store
        self.version = version
        self.localZone = localZone
        self.tick = tick
        var logger = logger
        logger[metadataKey: "sink"] = "notify"
        self.logger = logger
        counters = Mutex(Dictionary(uniqueKeysWithValues: settings.channels.map { ($0.name, ChannelCounters()) }))
        work = Mutex(Set(settings.channels.map(\.name)))
        pool = IOThreadPool(maxThreads: max(1, settings.channels.count), name: "hpm-notify")
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
        }
        incoming.withLock { $0.append(notice) }
    }

    public func run() async throws {
        defer { pool.shutdown() }
        do {
            try await refreshPending()
        } catch {
            logger.error("cannot read the notification outbox", metadata: ["error": "\(error)"])
        }
        await withDiscardingTaskGroup { group in
            for channel in settings.channels {
                group.addTask { await self.channelLoop(channel) }
            }
            group.addTask { await self.routingLoop() }
            await withGracefulShutdownHandler {
                while !Task.isCancelled && !self.stop.isSet {
                    try? await Task.sleep(for: .seconds(1))
                }
            } onGracefulShutdown: {
                self.stop.set()
            }
            self.stop.set()
        }
    }

    // MARK: Routing

    private func routingLoop() async {
        var grouper = NotificationGrouper(routes: settings.routes, localZone: localZone)
        var lastPrune = 0.0
        while !stop.isSet {
            let now = Date().timeIntervalSince1970
            for notice in incoming.withLock({ q -> [AlertNotice] in defer { q.removeAll() }; return q }) {
                grouper.observe(notice, now: now)
            }
            for message in grouper.due(now: now) {
                guard let route = settings.routes.first(where: { $0.name == message.route }) else { continue }
                do {
                    try await store.enqueueNotification(message, channels: route.channels)
                    logger.info("notification queued", metadata: [
                        "route": "\(route.name)", "group": "\(message.groupKey)", "status": "\(message.status)",
                        "firing": "\(message.firing.count)", "resolved": "\(message.resolved.count)", "channels": "\(route.channels.joined(separator: ","))",
                    ])
                    work.withLock { $0.formUnion(route.channels) }
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
            try? await Task.sleep(for: tick)
        }
    }

    private func refreshPending() async throws {
        let pending = try await store.pendingNotifications()
        counters.withLock { c in for name in c.keys { c[name]?.pending = pending[name] ?? 0 } }
    }

    // MARK: Delivery

    private func channelLoop(_ channel: NotifyChannel) async {
        let strand = IOStrand(pool: pool)
        let stop = self.stop
        let sender = ChannelSender(channel: channel, version: version, shouldAbort: { stop.isSet })
        var failures = 0
        let meta: Logger.Metadata = ["channel": "\(channel.name)", "type": "\(channel.kind.rawValue)"]
        while !stop.isSet {
            guard work.withLock({ $0.contains(channel.name) }) else {
                try? await Task.sleep(for: tick)
                continue
            }
            let next: OutboxMessage?
            do {
                next = try await store.nextNotification(channel: channel.name)
            } catch {
                logger.error("cannot read the notification outbox", metadata: meta.merging(["error": "\(error)"]) { a, _ in a })
                await pause(seconds: settings.retryInitial)
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
            if stop.isSet && outcome.kind != .delivered { break }  // aborted by shutdown: stays pending for the next start
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
                await pause(seconds: delay)
            }
        }
    }

    /// Sleeps up to `seconds`, ending early on shutdown.
    private func pause(seconds: Double) async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while !stop.isSet && ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(tick * 5, deadline - ContinuousClock.now))
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
