import Logging
import ServiceLifecycle
import Sinks
import Supervisor

/// Tells systemd (`Type=notify`) what the daemon is doing: `READY=1` once the first poll round is
/// scheduled, `STATUS=` lines, `WATCHDOG=1` only while the fleet's command loop answers, and
/// `STOPPING=1` when shutdown begins. Reloads announce themselves through `reloading()`/`reloaded()`.
///
/// The watchdog ping is a round trip through `FleetControl`'s serialized loop (the supervisor's
/// heart): a loop that is stuck, or a command that never ends, stops the pings and systemd restarts
/// the daemon after `WatchdogSec`.
struct SystemdService: Service {
    let notifier: SystemdNotifier
    let control: FleetControl
    let influx: InfluxSink?
    let remoteWrite: [RemoteWriteSink]
    let mqtt: MQTTSink?
    let logger: Logger
    /// How often `STATUS=` is refreshed when no watchdog asks for more.
    var statusInterval: Duration = .seconds(10)

    func run() async throws {
        // Not started by systemd: nothing to tell, but a service that returns early would end the
        // whole ServiceGroup, so it waits for shutdown like the others.
        guard notifier.enabled else {
            try? await gracefulShutdown()
            return
        }
        // The start command is queued first, so this answers once the first poll round is scheduled.
        try? await control.ping()
        notifier.send(["READY=1", "STATUS=\(await status())"])
        logger.debug("notified systemd: ready")
        // Ping at half the watchdog interval, as sd_watchdog_enabled(3) recommends.
        let period = notifier.watchdogInterval.map { $0 / 2 } ?? statusInterval
        await withGracefulShutdownHandler {
            // Shutdown ends the loop at once, whatever it is sleeping on.
            await cancelWhenGracefulShutdown { await pingLoop(period: period) }
        } onGracefulShutdown: {
            notifier.send(["STOPPING=1", "STATUS=stopping"])
        }
    }

    private func pingLoop(period: Duration) async {
        var sinceStatus: Duration = .zero
        var lastStatus = ""
        while !Task.isCancelled {
            do { try await Task.sleep(for: period) } catch { return }
            guard await loopAnswers(within: period) else {
                if Task.isCancelled { return }
                logger.warning("fleet command loop did not answer; withholding the watchdog ping")
                continue
            }
            var fields = notifier.watchdogInterval == nil ? [] : ["WATCHDOG=1"]
            sinceStatus += period
            // A changed status goes out with the next ping; an unchanged one every statusInterval.
            let current = await status()
            if current != lastStatus || sinceStatus >= statusInterval || notifier.watchdogInterval == nil {
                sinceStatus = .zero
                lastStatus = current
                fields.append("STATUS=\(current)")
            }
            notifier.send(fields)
        }
    }

    /// Whether the command loop answers a ping before `deadline` passes.
    private func loopAnswers(within deadline: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await control.ping()) != nil }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// `polling 812/840 up, InfluxDB spooling 1200 points, remote write central spooling 300 samples,
    /// MQTT disconnected (40 topics waiting)`: every sink that is holding data back is named.
    private func status() async -> String {
        let boards = await control.fleet.statusBoards
        let up = boards.values.reduce(0) { $0 + ($1.snapshot.up ? 1 : 0) }
        var text = "polling \(up)/\(boards.count) up"
        if let spooled = influx?.spooledPoints, spooled > 0 { text += ", InfluxDB spooling \(spooled) points" }
        for remote in remoteWrite where remote.spooledSamples > 0 {
            text += ", remote write \(remote.settings.name) spooling \(remote.spooledSamples) samples"
        }
        if let mqtt, !mqtt.isConnected { text += ", MQTT disconnected (\(mqtt.outboxTopics) topics waiting)" }
        return text
    }
}
