import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Evaluates alert rules on every poll (and every second, for offline rules), stores raised and
/// resolved alerts, logs a raised alert once at warning level, and exports `heatpump_alert_active`.
public final class AlertMonitor: TelemetrySink, Service, DaemonMetricsSource {
    private let evaluator: Mutex<AlertEvaluator>
    private let labels = Mutex<[String: DeviceLabels]>([:])
    private let store: SQLiteStore?
    private let logger: Logger
    /// Told about every raised and resolved alert (the notifier); set once at start-up.
    private let listeners = Mutex<[@Sendable (AlertTransition, DeviceLabels?, Double) -> Void]>([])

    /// `rules` from the configuration; the built-in rules (`AlertRule.builtIn`) are added unless a
    /// configured rule already uses their name.
    public init(rules: [AlertRule], store: SQLiteStore?, logger: Logger) {
        let names = Set(rules.map(\.name))
        evaluator = Mutex(AlertEvaluator(rules: rules + AlertRule.builtIn.filter { !names.contains($0.name) }))
        self.store = store
        self.logger = logger
    }

    /// The rules in force (configured plus built-in), as the evaluator holds them.
    public var rules: [AlertRule] { evaluator.withLock { $0.rules } }

    /// Replaces the configured rules live (the built-in rules are added as in `init`); alerts of
    /// removed or changed rules are resolved and stored as such.
    public func replaceRules(_ rules: [AlertRule]) {
        let names = Set(rules.map(\.name))
        let all = rules + AlertRule.builtIn.filter { !names.contains($0.name) }
        let transitions = evaluator.withLock { current -> [AlertTransition] in
            let (next, transitions) = current.replacingRules(all)
            current = next
            return transitions
        }
        logger.info("alert rules changed live", metadata: ["rules": "\(all.map(\.name).joined(separator: ", "))"])
        handle(transitions, at: Date().timeIntervalSince1970)
    }

    /// Adds a listener for raised and resolved alerts (called synchronously: it must not block).
    public func addListener(_ listener: @escaping @Sendable (AlertTransition, DeviceLabels?, Double) -> Void) {
        listeners.withLock { $0.append(listener) }
    }

    /// Continues the alerts the store still has open (from before a restart) for `devices`, the
    /// configured and runtime heat pumps: they are active again without a new raise, and listeners
    /// hear them as `restoring` (the notifier takes them as already announced). Open alerts that can
    /// no longer apply are resolved now. Call once, before polling starts.
    public func restore(devices: [DeviceLabels]) async {
        labels.withLock { for d in devices where $0[d.id] == nil { $0[d.id] = d } }
        guard let store else { return }
        let open: [StoredAlert]
        do {
            open = try await store.alerts(activeOnly: true)
        } catch {
            logger.error("cannot read the open alerts; they are raised afresh", metadata: ["error": "\(error)"])
            return
        }
        guard !open.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        let stale = evaluator.withLock { $0.restore(open.map { ($0.rule, $0.heatpumpID, $0.value) }, devices: Set(devices.map(\.id))) }
        for alert in stale {
            logger.info("open alert no longer applies; resolved", metadata: ["heatpump_id": "\(alert.heatpumpID)", "rule": "\(alert.rule)"])
            store.recordAlertResolved(rule: alert.rule, heatpumpID: alert.heatpumpID, at: now)
        }
        let staleKeys = Set(stale.map { "\($0.rule)|\($0.heatpumpID)" })
        let rules = self.rules
        let listeners = self.listeners.withLock { $0 }
        var restored = 0
        for alert in open where !staleKeys.contains("\(alert.rule)|\(alert.heatpumpID)") {
            guard let rule = rules.first(where: { $0.name == alert.rule }) else { continue }
            restored += 1
            let device = labels.withLock { $0[alert.heatpumpID] }
            for listener in listeners {
                listener(.restoring(rule: rule, heatpumpID: alert.heatpumpID, value: alert.value, message: alert.message, since: alert.raisedAt), device, now)
            }
        }
        logger.info("open alerts continued from before the restart", metadata: ["alerts": "\(restored)", "resolved": "\(stale.count)"])
    }

    public func publish(_ report: PollReport) {
        labels.withLock { $0[report.device.id] = report.device }
        let now = Date().timeIntervalSince1970
        handle(evaluator.withLock { $0.observe(report, now: now) }, at: now)
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {
        labels.withLock { $0[device.id] = device }
    }

    /// A device removed, disabled or relabelled (it comes back as a new one): its active alerts are
    /// resolved (stored and told to listeners), not just forgotten, so no row stays open forever
    /// and a relabelled device's alert is not open twice.
    public func deviceRemoved(_ id: String) {
        let resolved = evaluator.withLock { e -> [AlertTransition] in
            let transitions = e.active.filter { $0.heatpumpID == id }.map { AlertTransition.resolved(rule: $0.rule, heatpumpID: id) }
            e.forget(id)
            return transitions
        }
        handle(resolved, at: Date().timeIntervalSince1970)
        labels.withLock { _ = $0.removeValue(forKey: id) }
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    try await Task.sleep(for: .seconds(1))
                    let now = Date().timeIntervalSince1970
                    self.handle(self.evaluator.withLock { $0.tick(now: now) }, at: now)
                }
            }
        } catch is CancellationError {
            // graceful shutdown
        }
    }

    private func handle(_ transitions: [AlertTransition], at now: Double) {
        let listeners = transitions.isEmpty ? [] : self.listeners.withLock { $0 }
        for transition in transitions {
            if !listeners.isEmpty {
                let id = switch transition { case .raised(_, let id, _, _), .resolved(_, let id), .restoring(_, let id, _, _, _): id }
                let device = labels.withLock { $0[id] }
                for listener in listeners { listener(transition, device, now) }
            }
            switch transition {
            case .raised(let rule, let id, let value, let message):
                logger.warning("alert raised", metadata: ["heatpump_id": "\(id)", "rule": "\(rule.name)", "severity": "\(rule.severity)", "detail": "\(message)"])
                store?.recordAlertRaised(rule: rule.name, heatpumpID: id, severity: rule.severity, at: now, value: value, message: message)
            case .resolved(let rule, let id):
                logger.info("alert resolved", metadata: ["heatpump_id": "\(id)", "rule": "\(rule.name)"])
                store?.recordAlertResolved(rule: rule.name, heatpumpID: id, at: now)
            case .restoring:
                break  // already stored; only `restore` sends these
            }
        }
    }

    public func daemonMetrics() -> [DaemonMetric] {
        let devices = labels.withLock { $0 }
        let snapshot = evaluator.withLock { $0 }
        var metrics: [DaemonMetric] = []
        for id in devices.keys.sorted() {
            guard let d = devices[id] else { continue }
            for (rule, active) in snapshot.evaluated(id) {
                metrics.append(DaemonMetric("heatpump_alert_active", help: "1 while the alert rule is raised for the heat pump.",
                                            labels: [("heatpump_id", d.id), ("name", d.name), ("location", d.location), ("model", d.model),
                                                     ("manufacturer", d.manufacturer), ("rule", rule.name), ("severity", rule.severity)],
                                            value: active ? 1 : 0))
            }
        }
        return metrics
    }
}
