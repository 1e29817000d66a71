import Foundation
import TestSupport

/// Starts hpsim with a fleet and hpmanagerd against it for a fixed time; measures what DESIGN.md
/// and the scale issue ask for: on-time polls, latency, requests per poll, CPU, RSS, threads, queues.
struct FleetBenchmark {
    var name: String
    var devices: Int
    var interval: Double = 10
    var duration: Double = 60
    var unitsPerGateway = 100
    var hungFraction = 0.0
    var refusedFraction = 0.0
    /// Devices whose controllers accept connections but never answer (a listening socket that never
    /// accepts), each on its own port, with HPManager's documented defaults: timeout 5 s, 3 retries.
    var dark = 0
    var ioThreads: Int?
    /// Also run the naive one-request-per-register pymodbus poller on this many healthy devices.
    var naiveDevices = 0
    /// Also run the minimal blocking libmodbus poller (`FloorPoller`) on this many healthy devices.
    var floorDevices = 0

    static let naiveRequests = 50

    func run() async throws -> [String: Double] {
        let hung = Int((Double(devices) * hungFraction).rounded())
        let refused = Int((Double(devices) * refusedFraction).rounded())
        let healthy = devices - hung - refused
        let gateways = (healthy + unitsPerGateway - 1) / unitsPerGateway
        var simArgs: [String] = []
        for g in 0..<gateways {
            let units = min(unitsPerGateway, healthy - g * unitsPerGateway)
            simArgs += ["--tcp", "bench:0:1-\(units)"]
        }
        for _ in 0..<hung { simArgs += ["--tcp", "bench:0:1"] }
        let sim = try SimulatorProcess(simArgs)
        for port in sim.ports.suffix(hung) { try sim.command("hang \(port) * on") }

        // The same-run baselines poll the first `count` healthy devices, one gateway after another.
        func baselineDevices(_ count: Int) -> [(host: String, port: Int, unit: Int)] {
            (0..<count).map { i in
                (host: "127.0.0.1", port: sim.ports[i % max(gateways, 1)], unit: 1 + (i / max(gateways, 1)) % max(unitsPerGateway, 1))
            }
        }
        // The floor without pauses, before the daemon starts (it keeps one core busy).
        let floorDevices = baselineDevices(self.floorDevices)
        var backToBack: FloorPoller.Totals?
        if !floorDevices.isEmpty {
            let burst = try FloorPoller(devices: floorDevices, interval: 0)
            try await Task.sleep(for: .seconds(5))
            backToBack = burst.stop()
        }

        let dir = try TemporaryDirectory(prefix: "hpm-fleet")
        var text = "heatpumps:\n"
        var healthyIDs: [String] = []
        for g in 0..<gateways {
            let units = min(unitsPerGateway, healthy - g * unitsPerGateway)
            for u in 1...max(units, 1) where units > 0 {
                let id = "g\(g)u\(u)"
                healthyIDs.append(id)
                text += "  - {id: \(id), model: bench_model, modbus: {host: 127.0.0.1, port: \(sim.ports[g]), unit_id: \(u), timeout: 1, retries: 1, retry_delay: 0.2}}\n"
            }
        }
        for (i, port) in sim.ports.suffix(hung).enumerated() {
            text += "  - {id: hung\(i), model: bench_model, modbus: {host: 127.0.0.1, port: \(port), timeout: 1, retries: 1, retry_delay: 0.2}}\n"
        }
        for i in 0..<refused {
            text += "  - {id: refused\(i), model: bench_model, modbus: {host: 127.0.0.1, port: \(try freeLoopbackPort()), timeout: 1, retries: 1}}\n"
        }
        let darkEndpoints = try DarkEndpoints(count: dark)
        defer { darkEndpoints.close() }
        for (i, port) in darkEndpoints.ports.enumerated() {
            text += "  - {id: dark\(i), model: bench_model, modbus: {host: 127.0.0.1, port: \(port), timeout: 5, retries: 3}}\n"
        }
        try dir.write("heatpumps.yml", text)
        try dir.write("registers.yml", BenchModel.registersYAML)
        let files = IsolatedDaemonFiles(dir)
        try dir.write("collector.yml", files.collectorYAML(metricsInterval: min(interval, 10), extra: """
        collector:
          poll_interval: \(interval)
          backoff_max: 60
        \(ioThreads.map { "  io_threads: \($0)" } ?? "")
        logging:
          level: WARNING
        """))
        let daemon = try DaemonProcess(configDir: dir.path, metricsPath: files.metricsPath, logLevel: "warning")
        let sampler = ProcessSampler(pid: daemon.process.pid)
        let started = Date()

        // Start-up: until every healthy device had a successful poll (asked over the control socket,
        // which answers from the actors' status boards).
        let socket = files.socketPath
        let healthySet = Set(healthyIDs)
        var allUpAfter = -1.0
        while Date().timeIntervalSince(started) < interval * 3 {
            try await Task.sleep(for: .seconds(0.25))
            let rows = status(socket)
            if rows.filter({ healthySet.contains($0["id"] as? String ?? "") && $0["up"] as? Bool == true }).count == healthy {
                allUpAfter = Date().timeIntervalSince(started)
                break
            }
        }
        try await Task.sleep(for: .seconds(interval))  // settle

        let naive = naiveDevices > 0 ? try NaivePoller(devices: baselineDevices(naiveDevices), interval: interval) : nil
        let floor = floorDevices.isEmpty ? nil : try FloorPoller(devices: floorDevices, interval: interval)
        // Polls are counted from here: the baselines above each take an interval to warm up.
        let firstRows = status(socket)
        let first = snapshot(firstRows, healthySet)
        let darkPorts = Set(darkEndpoints.ports.map { "127.0.0.1:\($0)" })
        let connects0 = darkConnects(daemon.metrics(), darkPorts)
        let cpu0 = sampler.cpuSeconds()
        let wall0 = Date()
        var durations: [Double] = []
        var maxRSS = 0.0, maxThreads = 0, maxQueue = 0.0
        var pollCounts: [(Date, Double)] = []
        while Date().timeIntervalSince(wall0) < duration {
            try await Task.sleep(for: .seconds(min(interval, 10)))
            let (rss, threads) = sampler.memoryAndThreads()
            maxRSS = max(maxRSS, rss)
            maxThreads = max(maxThreads, threads)
            // Observed from the metrics file, not the control socket: the observer's own requests
            // (a 1,000-device status reply is ~0.5 MB of JSON) must not count as the daemon's CPU per poll.
            if let snapshot = daemon.stampedMetrics() {
                let m = snapshot.metrics
                // The file's polls counters as of its rewrite: a rate that does not depend on when the
                // (slow, at 10,000 devices) status replies read their counters. Only a read the file
                // was not replaced during counts (the read takes well under a second; parsing takes seconds).
                if let written = snapshot.written {
                    let total = m.samples.filter { $0.name == "heatpump_polls_total" && healthySet.contains($0.labels["heatpump_id"] ?? "") }
                        .map(\.value).reduce(0, +)
                    pollCounts.append((written, total))
                }
                maxQueue = max(maxQueue, m.values("hpmanager_sink_queue_depth").max() ?? 0)
                durations += m.samples.filter { $0.name == "heatpump_poll_duration_seconds" && healthySet.contains($0.labels["heatpump_id"] ?? "") }
                    .map(\.value)
            }
        }
        let cpuSeconds = sampler.cpuSeconds() - cpu0
        let window = Date().timeIntervalSince(wall0)
        let cpu = cpuSeconds / window
        let naiveResult = naive?.stop()
        let floorResult = floor?.stop()
        let lastRows = status(socket)
        let last = snapshot(lastRows, healthySet)
        let rowsSeen = (firstRows.filter { healthySet.contains($0["id"] as? String ?? "") }.count,
                        lastRows.filter { healthySet.contains($0["id"] as? String ?? "") }.count)
        if rowsSeen.0 != healthy || rowsSeen.1 != healthy {
            // A missing status reply would count every poll since start-up as the window's.
            FileHandle.standardError.write(Data("warning: status replies held \(rowsSeen.0) and \(rowsSeen.1) of \(healthy) healthy devices; polls per window are not trustworthy\n".utf8))
        }
        let connects = darkConnects(daemon.metrics(), darkPorts) - connects0
        let pollsBefore = Dictionary(firstRows.map { ($0["id"] as? String ?? "", $0["polls"] as? Double ?? 0) }, uniquingKeysWith: { a, _ in a })
        let neverPolled = lastRows.filter { row in
            let id = row["id"] as? String ?? ""
            return healthySet.contains(id) && (row["polls"] as? Double ?? 0) <= (pollsBefore[id] ?? 0)
        }.count + max(0, healthy - lastRows.filter { healthySet.contains($0["id"] as? String ?? "") }.count)
        let healthyUp = lastRows.filter { healthySet.contains($0["id"] as? String ?? "") && $0["up"] as? Bool == true }.count

        let stopStart = Date()
        daemon.process.signal(SIGTERM)
        let exited = daemon.process.waitForExit(timeout: 30)
        let shutdown = exited == nil ? -1 : Date().timeIntervalSince(stopStart)

        durations.sort()
        func quantile(_ q: Double) -> Double { durations.isEmpty ? 0 : durations[min(durations.count - 1, Int(Double(durations.count) * q))] }
        let polls = last.polls - first.polls
        let late = last.late - first.late
        // Polls per second from the metrics file's counters at its first and last rewrite in the
        // window; CPU per poll is the window's CPU share over that rate. The status replies' counts
        // are only the fallback: at 10,000 devices the first reply takes seconds to build after
        // reading its counters, which added those seconds' polls to the window (~25 % low per poll).
        var pollRate = window > 0 ? polls / window : 0
        if let a = pollCounts.first, let b = pollCounts.last, b.0.timeIntervalSince(a.0) > 0, b.1 > a.1 {
            pollRate = (b.1 - a.1) / b.0.timeIntervalSince(a.0)
        }
        let ourPerPoll = pollRate > 0 ? cpu / pollRate : 0
        var result: [String: Double] = [
            "devices": Double(devices + dark), "healthy": Double(healthy), "hung": Double(hung), "refused": Double(refused), "dark": Double(dark),
            "never_polled": Double(neverPolled), "healthy_up_ratio": healthy > 0 ? Double(healthyUp) / Double(healthy) : 0,
            "cpu_us_per_poll": ourPerPoll * 1e6, "dark_connects_per_s": connects / window,
            "interval": interval, "polls": polls, "on_time_ratio": polls > 0 ? 1 - late / polls : 0,
            "poll_p50": quantile(0.5), "poll_p99": quantile(0.99), "poll_max": durations.last ?? 0,
            "requests_per_poll": last.requestsPerPoll, "naive_requests": Double(Self.naiveRequests),
            "cpu_share": cpu, "rss_mib": maxRSS / 1_048_576, "threads": Double(maxThreads), "queue_max": maxQueue,
            "startup_all_up_s": allUpAfter, "shutdown_s": shutdown,
            "broken_polls": last.brokenPolls - first.brokenPolls,
            "window_s": window, "polls_per_s": pollRate, "status_rows_first": Double(rowsSeen.0), "status_rows_last": Double(rowsSeen.1),
        ]
        // Same-run baselines: CPU per poll, polls, and the ratio (the naive poller's as a multiple of
        // ours, ours as a multiple of the floors').
        func baseline(_ key: String, cpuSeconds: Double, polls: Double, failed: Double?, oursOverIt: Bool) {
            guard polls > 0 else { return }
            let perPoll = cpuSeconds / polls
            result["\(key)_cpu_us_per_poll"] = perPoll * 1e6
            result["\(key)_polls"] = polls
            if let failed { result["\(key)_failed_polls"] = failed }
            let ratio = oursOverIt ? ourPerPoll / perPoll : perPoll / ourPerPoll
            result["\(key)_ratio"] = ratio.isFinite ? ratio : 0
        }
        if let naiveResult { baseline("naive", cpuSeconds: naiveResult.cpuSeconds, polls: naiveResult.polls, failed: nil, oursOverIt: false) }
        if let floorResult { baseline("floor", cpuSeconds: floorResult.cpuSeconds, polls: floorResult.polls, failed: floorResult.failed, oursOverIt: true) }
        if let backToBack { baseline("floor_b2b", cpuSeconds: backToBack.cpuSeconds, polls: backToBack.polls, failed: backToBack.failed, oursOverIt: true) }
        return result
    }

    /// Connection attempts the daemon made to dark devices (summed `hpmanager_link_connects_total`).
    func darkConnects(_ metrics: PromMetrics?, _ links: Set<String>) -> Double {
        guard let metrics, !links.isEmpty else { return 0 }
        return metrics.samples.filter { $0.name == "hpmanager_link_connects_total" && links.contains($0.labels["link"] ?? "") }
            .map(\.value).reduce(0, +)
    }

    struct Snapshot {
        var polls = 0.0
        var late = 0.0
        var requestsPerPoll = 0.0
        var brokenPolls = 0.0
    }

    /// Every device's status over the control socket.
    func status(_ socket: String) -> [[String: Any]] {
        guard let client = try? UnixSocketClient(path: socket) else { return [] }
        client.send("{\"cmd\":\"status\"}\n")
        guard let line = client.readLine(timeout: 30),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let result = object["result"] as? [String: Any] else { return [] }
        return result["heatpumps"] as? [[String: Any]] ?? []
    }

    func snapshot(_ rows: [[String: Any]], _ healthy: Set<String>) -> Snapshot {
        var s = Snapshot()
        var requests: [Double] = []
        for row in rows {
            let isHealthy = healthy.contains(row["id"] as? String ?? "")
            let polls = row["polls"] as? Double ?? 0
            if isHealthy {
                s.polls += polls
                s.late += row["late"] as? Double ?? 0
                if let r = row["requests_per_poll"] as? Double { requests.append(r) }
            } else {
                s.brokenPolls += polls
            }
        }
        s.requestsPerPoll = requests.isEmpty ? 0 : requests.reduce(0, +) / Double(requests.count)
        return s
    }
}
