import Synchronization
import HPCore
import Logging
import Sinks
import Testing

@Suite("Alert rules (pure)", .harnessThreads)
struct AlertEvaluatorTests {
    let device = DeviceLabels(id: "a", name: "a", location: "", model: "m", manufacturer: "")

    func report(_ value: Double?, up: Bool = true, at t: Double) -> PollReport {
        let samples = value.map { [Sample(register: 0, name: "flow", value: .double($0))] } ?? []
        return PollReport(device: device, timestamp: t, samples: samples, status: DeviceStatus(up: up, lastSuccess: up ? t : nil))
    }

    func names(_ transitions: [AlertTransition]) -> [String] {
        transitions.map { if case .raised(let r, _, _, _) = $0 { "raised \(r.name)" } else if case .resolved(let r, _) = $0 { "resolved \(r.name)" } else { "" } }
    }

    @Test("threshold above: raised only after holding for the duration, resolved past the hysteresis")
    func above() {
        var e = AlertEvaluator(rules: [AlertRule(name: "hot", condition: .above(register: "flow", threshold: 50), duration: 10, hysteresis: 2)])
        #expect(names(e.observe(report(55, at: 0), now: 0)).isEmpty)
        #expect(names(e.observe(report(49, at: 5), now: 5)).isEmpty, "dipped below: the timer restarts")
        #expect(names(e.observe(report(55, at: 6), now: 6)).isEmpty)
        #expect(names(e.observe(report(56, at: 16), now: 16)) == ["raised hot"])
        #expect(names(e.observe(report(57, at: 17), now: 17)).isEmpty, "raised once, not every poll")
        #expect(names(e.observe(report(49, at: 18), now: 18)).isEmpty, "inside the hysteresis band")
        #expect(names(e.observe(report(47.9, at: 19), now: 19)) == ["resolved hot"])
        #expect(e.active.isEmpty)
    }

    @Test("offline: raised by time alone, resolved by the next success")
    func offline() {
        var e = AlertEvaluator(rules: [AlertRule(name: "gone", condition: .offline, duration: 30)])
        _ = e.observe(report(1, at: 0), now: 0)
        #expect(names(e.observe(report(nil, up: false, at: 10), now: 10)).isEmpty)
        #expect(names(e.tick(now: 29)).isEmpty)
        #expect(names(e.tick(now: 31)) == ["raised gone"])
        #expect(names(e.tick(now: 40)).isEmpty)
        #expect(names(e.observe(report(1, at: 50), now: 50)) == ["resolved gone"])
    }

    @Test("error rate over a window")
    func errorRate() {
        var e = AlertEvaluator(rules: [AlertRule(name: "flaky", condition: .errorRate(threshold: 0.4, window: 100))])
        var all: [String] = []
        for i in 0..<10 { all += names(e.observe(report(i % 2 == 0 ? nil : 1, up: i % 2 != 0, at: Double(i)), now: Double(i))) }
        #expect(all == ["raised flaky"])
        for i in 10..<40 { all += names(e.observe(report(1, at: Double(i)), now: Double(i))) }
        #expect(all == ["raised flaky", "resolved flaky"])
    }

    @Test("rules apply only to the listed heat pumps")
    func filter() {
        var e = AlertEvaluator(rules: [AlertRule(name: "hot", condition: .above(register: "flow", threshold: 50), heatpumps: ["b"])])
        #expect(e.observe(report(99, at: 0), now: 0).isEmpty)
    }

    @Test("built-in misconfigured alert: raised by a misconfigured poll, kept through failed polls, resolved by a normal poll")
    func misconfigured() throws {
        var e = AlertEvaluator(rules: AlertRule.builtIn)
        func status(_ state: DeviceState) -> PollReport {
            PollReport(device: device, timestamp: 0, samples: [],
                       status: DeviceStatus(state: state, up: state == .polling, lastError: state == .misconfigured ? "every register refused" : nil))
        }
        #expect(names(e.observe(status(.polling), now: 0)).isEmpty)
        let raised = e.observe(status(.misconfigured), now: 1)
        #expect(names(raised) == ["raised misconfigured"])
        if case .raised(let rule, _, _, let message) = try #require(raised.first) {
            #expect(rule.severity == "critical" && message == "every register refused")
        }
        #expect(names(e.observe(status(.misconfigured), now: 2)).isEmpty, "raised once")
        #expect(names(e.observe(status(.backoff), now: 3)).isEmpty, "a failed poll neither raises nor resolves it")
        #expect(names(e.observe(status(.polling), now: 4)) == ["resolved misconfigured"])
    }

    @Test("the daemon's alert monitor always evaluates the built-in rules and exports them")
    func builtInWired() {
        let monitor = AlertMonitor(rules: [], store: nil, logger: Logger(label: "t"))
        monitor.publish(PollReport(device: device, timestamp: 0, samples: [], status: DeviceStatus(state: .misconfigured, up: false)))
        let active = monitor.daemonMetrics().filter { $0.name == "heatpump_alert_active" && $0.labels.contains { $0 == ("rule", "misconfigured") } }
        #expect(active.map(\.value) == [1])
    }

    @Test("alerts open before a restart continue: a condition still holding is not raised again, one that cleared resolves; stale ones are returned")
    func restore() {
        let rules = [AlertRule(name: "hot", condition: .above(register: "flow", threshold: 50), duration: 10, hysteresis: 2),
                     AlertRule(name: "gone", condition: .offline, duration: 30)]
        var e = AlertEvaluator(rules: rules)
        let stale = e.restore([("hot", "a", 55), ("gone", "a", 40), ("removed-rule", "a", nil), ("hot", "elsewhere", 60)], devices: ["a"])
        #expect(stale.map { "\($0.rule)/\($0.heatpumpID)" } == ["removed-rule/a", "hot/elsewhere"])
        #expect(e.active.map { "\($0.rule.name)/\($0.heatpumpID)" }.sorted() == ["gone/a", "hot/a"])
        // Still hot, still down: nothing new (no second row, no second message).
        #expect(names(e.observe(report(56, up: false, at: 100), now: 100)).isEmpty)
        #expect(names(e.tick(now: 200)).isEmpty)
        // Back and cool: both resolve once.
        #expect(names(e.observe(report(40, at: 210), now: 210)).sorted() == ["resolved gone", "resolved hot"])
        #expect(e.active.isEmpty)
    }

    @Test("built-in short-cycling alert follows heatpump_short_cycling (whose hysteresis is its own) and says why; devices without the series get none")
    func shortCycling() throws {
        var e = AlertEvaluator(rules: AlertRule.builtIn)
        func poll(_ flag: Int64, at t: Double) -> PollReport {
            let samples = [Sample(register: -1, name: "short_cycling", value: .int(flag)), Sample(register: -1, name: "compressor_starts_per_hour", value: .int(9)),
                           Sample(register: -1, name: "compressor_run_seconds_per_start", value: .double(250))]
            return PollReport(device: device, timestamp: t, samples: samples, status: DeviceStatus(up: true, lastSuccess: t))
        }
        #expect(names(e.observe(report(1, at: 0), now: 0)).isEmpty, "no short_cycling series: nothing evaluated")
        #expect(e.evaluated("a").allSatisfy { $0.rule.name != "short_cycling" })
        #expect(names(e.observe(poll(0, at: 10), now: 10)).isEmpty)
        let raised = e.observe(poll(1, at: 20), now: 20)
        #expect(names(raised) == ["raised short_cycling"])
        if case .raised(_, _, _, let message) = try #require(raised.first) {
            #expect(message == "compressor short-cycling: 9 starts in the past hour, runs of 4 min 10 s on average")
        }
        #expect(names(e.observe(poll(1, at: 30), now: 30)).isEmpty)
        #expect(names(e.observe(poll(0, at: 40), now: 40)) == ["resolved short_cycling"])
    }

    @Test("a removed (or disabled, or relabelled) device's active alerts are resolved, not forgotten: listeners hear the resolve")
    func removedDeviceResolves() {
        let monitor = AlertMonitor(rules: [AlertRule(name: "hot", condition: .above(register: "flow", threshold: 50))], store: nil, logger: Logger(label: "t"))
        let heard = Mutex<[String]>([])
        monitor.addListener { transition, device, _ in
            let text = switch transition {
            case .raised(let r, let id, _, _): "raised \(r.name) \(id) \(device?.location ?? "?")"
            case .resolved(let r, let id): "resolved \(r.name) \(id) \(device?.location ?? "?")"
            case .restoring: "restoring"
            }
            heard.withLock { $0.append(text) }
        }
        let labelled = DeviceLabels(id: "a", name: "a", location: "Building A", model: "m", manufacturer: "")
        monitor.publish(PollReport(device: labelled, timestamp: 0, samples: [Sample(register: 0, name: "flow", value: .double(60))], status: DeviceStatus(up: true, lastSuccess: 0)))
        monitor.deviceRemoved("a")
        monitor.deviceRemoved("a")
        #expect(heard.withLock { $0 } == ["raised hot a Building A", "resolved hot a Building A"], "resolved once, with the labels the alert was raised with")
    }
}
