import HPCore

/// A change of an alert's state.
public enum AlertTransition: Sendable, Hashable {
    case raised(rule: AlertRule, heatpumpID: String, value: Double?, message: String)
    case resolved(rule: AlertRule, heatpumpID: String)
    /// An alert open since before a restart (`AlertMonitor.restore`), raised at `since`: still
    /// active, already stored and, as far as listeners know, announced.
    case restoring(rule: AlertRule, heatpumpID: String, value: Double?, message: String, since: Double)
}

/// Alert rules as a pure state machine over poll reports and time (no I/O, no clock).
public struct AlertEvaluator: Sendable {
    struct Key: Hashable {
        var rule: String
        var device: String
    }

    struct State {
        var conditionSince: Double?
        var active = false
        var value: Double?
    }

    public let rules: [AlertRule]
    private var states: [Key: State] = [:]
    private var lastSuccess: [String: Double] = [:]
    private var downSince: [String: Double] = [:]
    private var outcomes: [String: [(Double, Bool)]] = [:]

    public init(rules: [AlertRule]) {
        self.rules = rules
    }

    /// Active alerts as (rule, device).
    public var active: [(rule: AlertRule, heatpumpID: String)] {
        rules.flatMap { rule in
            states.filter { $0.key.rule == rule.name && $0.value.active }.keys.sorted { $0.device < $1.device }.map { (rule, $0.device) }
        }
    }

    /// (rule, device) pairs the evaluator has seen, with their state.
    public func evaluated(_ id: String) -> [(rule: AlertRule, active: Bool)] {
        // An anomaly rule exists for a device only once it reported a verdict (its model declares
        // anomaly:), the built-in short-cycling rule once the device reported the series.
        rules.filter { $0.applies(to: id) && (!Self.onlyOnceReported($0) || states[Key(rule: $0.name, device: id)] != nil) }
            .map { ($0, states[Key(rule: $0.name, device: id)]?.active ?? false) }
    }

    /// The evaluator with `rules` instead (a live settings change). A rule kept unchanged keeps its
    /// state (an active alert stays raised, a pending `for` keeps counting); an active alert of a
    /// rule that was removed or changed is resolved, and a changed rule starts afresh. Device history
    /// (last success, poll outcomes) carries over, so an offline rule added now sees how long a
    /// device has been down.
    public func replacingRules(_ rules: [AlertRule]) -> (evaluator: AlertEvaluator, transitions: [AlertTransition]) {
        var next = AlertEvaluator(rules: rules)
        next.lastSuccess = lastSuccess
        next.downSince = downSince
        next.outcomes = outcomes
        let kept = Set(rules)
        var transitions: [AlertTransition] = []
        for old in self.rules {
            let survives = kept.contains(old)
            for (key, state) in states where key.rule == old.name {
                if survives {
                    next.states[key] = state
                } else if state.active {
                    transitions.append(.resolved(rule: old, heatpumpID: key.device))
                }
            }
        }
        transitions.sort { "\($0)" < "\($1)" }
        return (next, transitions)
    }

    /// Alerts still open in the store from before a restart become active again, so a condition
    /// that still holds is not raised (stored, notified) a second time and one that cleared while
    /// the daemon was down is resolved by the next evaluation. Returns the open alerts that cannot
    /// apply any more (their rule is gone or no longer covers the device, or the device is not
    /// configured): the caller resolves those.
    public mutating func restore(_ open: [(rule: String, heatpumpID: String, value: Double?)], devices: Set<String>) -> [(rule: String, heatpumpID: String)] {
        var stale: [(rule: String, heatpumpID: String)] = []
        for alert in open {
            guard let rule = rules.first(where: { $0.name == alert.rule }), rule.applies(to: alert.heatpumpID), devices.contains(alert.heatpumpID) else {
                stale.append((alert.rule, alert.heatpumpID))
                continue
            }
            states[Key(rule: rule.name, device: alert.heatpumpID)] = State(conditionSince: nil, active: true, value: alert.value)
        }
        return stale
    }

    public mutating func forget(_ id: String) {
        states = states.filter { $0.key.device != id }
        lastSuccess[id] = nil
        downSince[id] = nil
        outcomes[id] = nil
    }

    public mutating func observe(_ report: PollReport, now: Double) -> [AlertTransition] {
        let id = report.device.id
        if report.status.up {
            lastSuccess[id] = report.timestamp
            downSince[id] = nil
        } else if downSince[id] == nil {
            downSince[id] = report.status.lastSuccess ?? lastSuccess[id] ?? report.timestamp
        }
        var window = outcomes[id, default: []]
        window.append((report.timestamp, report.status.up))
        let longest = rules.compactMap { if case .errorRate(_, let w) = $0.condition { w } else { nil } }.max() ?? 0
        window.removeAll { $0.0 < now - longest }
        outcomes[id] = window

        var transitions: [AlertTransition] = []
        for rule in rules where rule.applies(to: id) {
            switch rule.condition {
            case .above(let register, let threshold):
                guard report.status.up, let value = report.samples.first(where: { $0.name == register })?.value.doubleValue else { continue }
                update(rule, id, now: now, value: value, firing: value > threshold, clear: value < threshold - rule.hysteresis, into: &transitions,
                       message: register == DerivedSeries.shortCycling ? Self.shortCyclingMessage(report) : nil)
            case .below(let register, let threshold):
                guard report.status.up, let value = report.samples.first(where: { $0.name == register })?.value.doubleValue else { continue }
                update(rule, id, now: now, value: value, firing: value < threshold, clear: value > threshold + rule.hysteresis, into: &transitions)
            case .offline:
                evaluateOffline(rule, id, now: now, into: &transitions)
            case .misconfigured:
                // A failed poll (backoff) says nothing about the configuration: only a poll that was
                // answered decides.
                guard report.status.state == .misconfigured || report.status.state == .polling else { continue }
                let misconfigured = report.status.state == .misconfigured
                update(rule, id, now: now, value: misconfigured ? 1 : 0, firing: misconfigured, clear: !misconfigured, into: &transitions,
                       message: report.status.lastError)
            case .anomaly:
                guard report.status.up, let verdict = report.anomaly else { continue }
                update(rule, id, now: now, value: verdict.score, firing: verdict.alerting, clear: !verdict.alerting, into: &transitions,
                       message: verdict.message)
            case .errorRate(let threshold, let span):
                let recent = window.filter { $0.0 >= now - span }
                guard recent.count >= 5 else { continue }
                let rate = Double(recent.filter { !$0.1 }.count) / Double(recent.count)
                update(rule, id, now: now, value: rate, firing: rate > threshold, clear: rate <= threshold - rule.hysteresis, into: &transitions)
            }
        }
        return transitions
    }

    /// Time-driven rules (offline) between reports.
    public mutating func tick(now: Double) -> [AlertTransition] {
        var transitions: [AlertTransition] = []
        for rule in rules where rule.condition == .offline {
            for id in Set(downSince.keys).union(lastSuccess.keys).sorted() where rule.applies(to: id) {
                evaluateOffline(rule, id, now: now, into: &transitions)
            }
        }
        return transitions
    }

    private mutating func evaluateOffline(_ rule: AlertRule, _ id: String, now: Double, into transitions: inout [AlertTransition]) {
        let down = downSince[id]
        let key = Key(rule: rule.name, device: id)
        var state = states[key] ?? State()
        if let down, now - down >= rule.duration, !state.active {
            state.active = true
            state.value = now - down
            transitions.append(.raised(rule: rule, heatpumpID: id, value: now - down,
                                       message: "no answer for \(Int(now - down)) s (limit \(Int(rule.duration)) s)"))
        } else if down == nil, state.active {
            state.active = false
            transitions.append(.resolved(rule: rule, heatpumpID: id))
        }
        states[key] = state
    }

    private mutating func update(_ rule: AlertRule, _ id: String, now: Double, value: Double, firing: Bool, clear: Bool,
                                 into transitions: inout [AlertTransition], message: String? = nil) {
        let key = Key(rule: rule.name, device: id)
        var state = states[key] ?? State()
        state.value = value
        if state.active {
            if clear {
                state.active = false
                state.conditionSince = nil
                transitions.append(.resolved(rule: rule, heatpumpID: id))
            }
        } else if firing {
            let since = state.conditionSince ?? now
            state.conditionSince = since
            if now - since >= rule.duration {
                state.active = true
                transitions.append(.raised(rule: rule, heatpumpID: id, value: value, message: message ?? Self.describe(rule, value)))
            }
        } else {
            state.conditionSince = nil
        }
        states[key] = state
    }

    static func onlyOnceReported(_ rule: AlertRule) -> Bool {
        rule.condition == .anomaly || (rule.name == "short_cycling" && rule.condition == .above(register: DerivedSeries.shortCycling, threshold: 0.5))
    }

    /// What the built-in short-cycling alert says: the starts and run length that tripped it.
    static func shortCyclingMessage(_ report: PollReport) -> String {
        func value(_ name: String) -> Double? { report.samples.first { $0.name == name }?.value.doubleValue }
        var parts: [String] = []
        if let starts = value(DerivedSeries.compressorStartsPerHour) { parts.append("\(Int(starts)) starts in the past hour") }
        if let run = value(DerivedSeries.compressorRunPerStart) { parts.append("runs of \(Int(run / 60)) min \(Int(run) % 60) s on average") }
        return "compressor short-cycling" + (parts.isEmpty ? "" : ": " + parts.joined(separator: ", "))
    }

    static func describe(_ rule: AlertRule, _ value: Double) -> String {
        switch rule.condition {
        case .above(let r, let t): "\(r) = \(value) above \(t)"
        case .below(let r, let t): "\(r) = \(value) below \(t)"
        case .errorRate(let t, let w): "error rate \(Int(value * 100))% above \(Int(t * 100))% over \(Int(w)) s"
        case .offline: "offline"
        case .misconfigured: "misconfigured"
        case .anomaly: "anomaly score \(value)"
        }
    }
}
