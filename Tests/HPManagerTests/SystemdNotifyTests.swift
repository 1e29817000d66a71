import Foundation
import Testing
import TestSupport

/// The daemon under `Type=notify`: the test plays systemd's side of `NOTIFY_SOCKET`.
@Suite("systemd notify protocol", .harnessThreads)
struct SystemdNotifyTests {
    @Test("READY after the first poll round, WATCHDOG at half WATCHDOG_USEC, RELOADING/READY on SIGHUP, STOPPING on SIGTERM")
    func notifyLifecycle() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0])])
        let listener = try NotifySocketListener(directory: harness.dir.path)
        defer { listener.close() }
        let daemon = try harness.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"])

        let ready = try await eventually("READY=1", timeout: 10) { listener.messages.first { $0.has("READY", "1") } }
        let status = try #require(ready.fields["STATUS"])
        #expect(status.hasPrefix("polling ") && status.hasSuffix("/1 up"), "status: \(status)")

        // WATCHDOG_USEC=1 s: a ping about every 0.5 s, never more than the interval apart.
        let pings = try await eventually("four watchdog pings", timeout: 10) { () -> [Double]? in
            let times = listener.messages.filter { $0.has("WATCHDOG", "1") }.map(\.at)
            return times.count >= 4 ? times : nil
        }
        let gaps = zip(pings.dropFirst(), pings).map { $0 - $1 }
        #expect(gaps.allSatisfy { $0 > 0.25 && $0 < 1.0 }, "ping gaps \(gaps)")
        #expect(pings.first ?? 0 >= ready.at, "no watchdog ping before READY")

        // SIGHUP: RELOADING=1 with a monotonic timestamp, then READY=1 again.
        let before = listener.messages.count
        daemon.process.signal(SIGHUP)
        let reloading = try await eventually("RELOADING=1", timeout: 10) { listener.messages.dropFirst(before).first { $0.has("RELOADING", "1") } }
        let usec = try #require(reloading.fields["MONOTONIC_USEC"].flatMap { UInt64($0) })
        // Against this process's CLOCK_MONOTONIC read now (not the system uptime: a VM that was paused
        // has its boot-time clock ahead of the monotonic one).
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let monotonic = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
        #expect(Double(usec) / 1e6 <= monotonic && monotonic - Double(usec) / 1e6 < 30,
                "MONOTONIC_USEC \(usec) is CLOCK_MONOTONIC (now \(monotonic))")
        _ = try await eventually("READY=1 after the reload", timeout: 10) {
            listener.messages.dropFirst(before).first { $0.has("READY", "1") && $0.at >= reloading.at }
        }

        // SIGTERM: STOPPING=1, then the process exits.
        daemon.process.signal(SIGTERM)
        _ = try await eventually("STOPPING=1", timeout: 10) { listener.messages.first { $0.has("STOPPING", "1") } }
        #expect(daemon.process.waitForExit(timeout: 10) == 0)
    }

    @Test("STATUS names every sink holding data back: InfluxDB and remote-write spools, a lost MQTT broker")
    func statusNamesBacklogs() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        // Nothing listens on these ports: every delivery fails, so the spools fill and MQTT stays down.
        let influxPort = try freeLoopbackPort(), remotePort = try freeLoopbackPort(), brokerPort = try freeLoopbackPort()
        let dir = try TemporaryDirectory(prefix: "hpm-notify-status")
        let harness = try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0])], interval: 0.3,
                                        collectorKeys: "  batch_size: 5\n  batch_interval: 0.3", extraSections: """
        influxdb:
          url: http://127.0.0.1:\(influxPort)
          version: 1
          database: hpm
          timeout: 1
          retry_interval: 1
          spool_path: \(dir.file("influx-spool.db"))
        remote_write:
          - name: central
            url: http://127.0.0.1:\(remotePort)/api/v1/write
            timeout: 1
            queue: {batch_send_deadline: 0.3}
            spool_path: \(dir.file("rw-spool.db"))
        mqtt:
          url: mqtt://127.0.0.1:\(brokerPort)
          client_id: hpm-status
        """, reuse: dir)
        let listener = try NotifySocketListener(directory: harness.dir.path)
        defer { listener.close() }
        let daemon = try harness.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "1000000"])
        let status = try await eventually("STATUS naming the three backlogs", timeout: 20, interval: 0.1) { () -> String? in
            listener.messages.compactMap { $0.fields["STATUS"] }.first {
                $0.contains(", InfluxDB spooling ") && $0.contains(", remote write central spooling ") && $0.contains(", MQTT disconnected (")
            }
        }
        #expect(status.hasPrefix("polling 1/1 up"), "status: \(status)")
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.waitForExit(timeout: 10) == 0)
    }

    @Test("WATCHDOG_PID of another process: READY and STATUS, but no watchdog pings")
    func watchdogForAnotherProcess() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0])])
        let listener = try NotifySocketListener(directory: harness.dir.path)
        defer { listener.close() }
        let daemon = try harness.start(environment: ["NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"])
        let ready = try await eventually("READY=1", timeout: 10) { listener.messages.first { $0.has("READY", "1") } }
        // Ten watchdog periods pass; the metrics file proves the daemon kept working meanwhile.
        _ = try await DaemonHarness.waitFor(daemon, "hp1 up") { DaemonHarness.up($0, "hp1") == 1 }
        try await Task.sleep(for: .seconds(2))
        #expect(!listener.messages.contains { $0.has("WATCHDOG") }, "pings for a watchdog that is not ours")
        #expect(ready.fields["STATUS"] != nil)
        // Shutdown does not wait for the (10 s) status period to end.
        let stopping = ProcessInfo.processInfo.systemUptime
        daemon.process.signal(SIGTERM)
        #expect(daemon.process.waitForExit(timeout: 10) == 0)
        #expect(ProcessInfo.processInfo.systemUptime - stopping < 4, "exit took \(ProcessInfo.processInfo.systemUptime - stopping) s")
    }
}
