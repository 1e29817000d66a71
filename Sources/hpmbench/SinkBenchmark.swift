import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Sinks
import SQLiteKit
import Synchronization
import TestSupport

/// Feeds synthetic polls (devices × registers every interval) into the sinks at the fleet's rate
/// and measures this process's CPU share, next to a baseline in the same run.
struct SinkBenchmark {
    let devices: Int
    let registers: Int
    let interval: Double
    let seconds: Double
    /// Rows to run besides the baseline (`sqlite`, `influx`, `remote-write` (both receivers), `remote-write-null`, `mqtt`); empty = all.
    var only: Set<String> = []
    /// Remote-write `queue:` for the remote-write row (defaults when nil), for A/B runs.
    var remoteQueue: RemoteWriteSettings.Queue?

    struct Row {
        var name: String
        var offered: Double
        var done: Double
        var cpu: Double
        /// CPU share of one core per thread name during the row (the sinks' own threads vs the callers).
        var threads: [(String, Double)] = []
    }

    func wants(_ row: String) -> Bool { only.isEmpty || only.contains(row) }

    /// One poll per device; registers below `changing` take values that move with `tick`, the others stay put.
    func reports(tick: Int, changing: Int? = nil) -> [PollReport] {
        let changing = changing ?? registers
        let now = Date().timeIntervalSince1970
        return (0..<devices).map { d in
            let labels = DeviceLabels(id: "hp-\(d)", name: "Heat pump \(d)", location: "Building \(d % 50)", model: "nibe_s1155", manufacturer: "NIBE")
            let samples = (0..<registers).map { r in
                Sample(register: r, name: "register_\(r)", value: r % 3 == 0 ? .int(Int64(d + r + (r < changing ? tick : 0)))
                                                                            : .double(Double(d) * 0.1 + Double(r) + Double(r < changing ? tick : 0) * 0.01))
            }
            return PollReport(device: labels, timestamp: now, samples: samples, status: DeviceStatus(state: .polling, up: true, lastSuccess: now))
        }
    }

    /// Offers one interval's worth of polls spread evenly over `seconds`, like a real fleet.
    func drive(tick: Int = 0, changing: Int? = nil, _ publish: ([PollReport]) -> Void) async throws -> Double {
        let perSecond = Double(devices) / interval
        let slices = Int(seconds * 10)
        let all = reports(tick: tick, changing: changing)
        let perSlice = Int((perSecond / 10).rounded())
        let clock = ContinuousClock()
        let start = clock.now
        var offset = 0
        for slice in 0..<slices {
            var batch: [PollReport] = []
            batch.reserveCapacity(perSlice)
            for _ in 0..<perSlice {
                batch.append(all[offset % all.count])
                offset += 1
            }
            publish(batch)
            try await clock.sleep(until: start + .milliseconds(100 * (slice + 1)))
        }
        return Double(offset * registers)
    }

    func measure(_ name: String, _ body: () async throws -> Double) async throws -> Row {
        let threads0 = ThreadCPU.byName()
        let cpu0 = ProcessCPU.seconds()
        let wall0 = Date()
        let done = try await body()
        let wall = Date().timeIntervalSince(wall0)
        let cpu = ProcessCPU.seconds() - cpu0
        let threads = ThreadCPU.delta(threads0, ThreadCPU.byName()).map { ($0.0, $0.1 / wall) }
        return Row(name: name, offered: Double(devices * registers) / interval, done: done / wall, cpu: cpu / wall, threads: threads)
    }

    func run() async throws -> [Row] {
        let logger = Logger(label: "bench")
        let dir = try TemporaryDirectory(prefix: "hpm-bench")
        var rows: [Row] = []

        // Baseline: producing the polls alone (what the sinks add is measured on top of this).
        rows.append(try await measure("baseline: produce polls only") { try await drive { _ in } })
        if wants("metrics-file") { rows.append(try await metricsFileRow(dir: dir, logger: logger)) }
        if wants("sqlite") { rows += try await sqliteRows(dir: dir, logger: logger) }
        if wants("influx") { rows.append(try await influxRow(dir: dir, logger: logger)) }
        if wants("remote-write") { rows.append(try await remoteWriteRow(dir: dir, logger: logger)) }
        if wants("remote-write") || only.contains("remote-write-null") { rows.append(try await remoteWriteNullRow(dir: dir, logger: logger)) }
        if wants("mqtt") {
            rows.append(try await mqttRow(dir: dir, logger: logger, mode: .always))
            rows.append(try await mqttRow(dir: dir, logger: logger, mode: .changed, changing: registers / 5))
        }
        return rows
    }

    /// The metrics file (the daemon's default sink): publishing every poll, and one full rewrite per
    /// poll interval (the default `metrics_file.interval` is the shortest poll interval, at most 10 s),
    /// on a thread of its own as in the daemon. Every device is published once before the row, so
    /// each rewrite renders the whole fleet.
    func metricsFileRow(dir: TemporaryDirectory, logger: Logger) async throws -> Row {
        let path = dir.file("hpmanager.prom")
        let sink = MetricsFileSink(path: path, interval: .seconds(interval), version: "bench", logger: logger)
        for r in reports(tick: 0) { sink.publish(r) }
        let rewrites = max(1, Int(seconds / interval))
        let spacing = seconds / Double(rewrites)
        let cpuPerRewrite = Mutex<[Double]>([])
        let row = try await measure("metrics file (publish + rewrite)") {
            let writer = Thread {
                let start = Date()
                for i in 0..<rewrites {
                    Thread.sleep(until: start.addingTimeInterval(spacing * (Double(i) + 0.5)))
                    let t0 = ThreadCPU.current()
                    sink.writeNow()
                    let used = ThreadCPU.current() - t0
                    cpuPerRewrite.withLock { $0.append(used) }
                }
            }
            writer.start()
            let fields = try await drive(tick: 1) { batch in for r in batch { sink.publish(r) } }
            while cpuPerRewrite.withLock({ $0.count }) < rewrites { try await Task.sleep(for: .milliseconds(20)) }
            return fields
        }
        // The last file as written: its size and its lines (HELP and TYPE included).
        let file = try Data(contentsOf: URL(fileURLWithPath: path))
        let lines = file.reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        let each = cpuPerRewrite.withLock { $0 }
        let perRewrite = each.reduce(0, +) / Double(max(1, each.count))
        print(String(format: "check: metrics file %d rewrites of %.1f MB, %.1f ms CPU each (%.0f ns per line, %d lines)", each.count, Double(file.count) / 1e6,
                     perRewrite * 1000, perRewrite * 1e9 / Double(max(1, lines)), lines))
        return row
    }

    /// SQLite store: one JSON row per poll, batched per second; and the alternative design measured
    /// for the decision, one SQLite row per register.
    func sqliteRows(dir: TemporaryDirectory, logger: Logger) async throws -> [Row] {
        var rows: [Row] = []
        let store = SQLiteStore(path: dir.file("store.db"), retention: 86400, flushInterval: 1, logger: logger)
        try await store.open()
        let storeTask = Task { try await store.run() }
        rows.append(try await measure("sqlite store (row per poll)") {
            let fields = try await drive { batch in for r in batch { store.publish(r) } }
            return fields
        })
        storeTask.cancel()
        _ = try? await storeTask.value
        let stored = Dictionary(store.daemonMetrics().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        print("check: sqlite wrote \(Int(stored["hpmanager_sqlite_rows_written_total"] ?? 0)) rows, dropped \(Int(stored["hpmanager_sink_dropped_total"] ?? 0))")

        let alt = try SQLiteDatabase(path: dir.file("alt.db"))
        try alt.execute("CREATE TABLE readings (heatpump_id TEXT, at REAL, register TEXT, value REAL)")
        rows.append(try await measure("alternative: sqlite row per register") {
            try await drive { batch in
                try? alt.transaction {
                    for r in batch { for s in r.samples { try alt.run("INSERT INTO readings VALUES (?1, ?2, ?3, ?4)", [.text(r.device.id), .real(r.timestamp), .text(s.name), .real(s.value.doubleValue)]) } }
                }
            }
        })
        return rows
    }

    /// InfluxDB sink: encode + batch + send to a real influxd.
    func influxRow(dir: TemporaryDirectory, logger: Logger) async throws -> Row {
        let influx = try InfluxServer()
        try influx.query("CREATE DATABASE bench")
        var settings = InfluxSettings()
        settings.enabled = true
        settings.url = influx.url
        settings.version = 1
        settings.database = "bench"
        let sink = InfluxSink(settings: settings, batchSize: 5000, batchInterval: 1, spoolPath: dir.file("spool.db"), logger: logger)
        let sinkTask = Task { try await sink.run() }
        let row = try await measure("influx sink (encode + send)") {
            try await drive { batch in for r in batch { sink.publish(r) } }
        }
        sinkTask.cancel()
        _ = try? await sinkTask.value
        let stats = Dictionary(sink.daemonMetrics().map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
        print("check: influxd accepted \(Int(stats["hpmanager_influx_points_sent_total"] ?? 0)) points, spooled \(Int(stats["hpmanager_influx_spooled_points"] ?? 0)), failed writes \(Int(stats["hpmanager_influx_write_failures_total"] ?? 0))")
        influx.stop()
        return row
    }

    /// Prometheus remote write: samples, protobuf, snappy and send to a real receiver
    /// (VictoriaMetrics), with the default queue settings.
    func remoteWriteRow(dir: TemporaryDirectory, logger: Logger) async throws -> Row {
        let victoria = try VictoriaMetricsServer()
        defer { victoria.stop() }
        return try await remoteWriteRow("remote write sink (encode + send)", url: victoria.remoteWriteURL, spool: dir.file("rw-spool.db"), logger: logger)
    }

    /// Remote write to `bench/null_receiver.py` (its own process, reads and answers 204): the sender's
    /// direct path alone, as against a receiver on another machine. On two shared cores VictoriaMetrics
    /// cannot always take 50,000 samples/s, so the row above also measures the spool a slow receiver fills.
    func remoteWriteNullRow(dir: TemporaryDirectory, logger: Logger) async throws -> Row {
        let receiver = try NullReceiver()
        let row = try await remoteWriteRow("remote write sink, null receiver", url: receiver.url, spool: dir.file("rw-null-spool.db"), logger: logger)
        let stats = receiver.stop()
        print("check: null receiver took \(stats.requests) requests (\(stats.bytes) bytes, \(stats.refused) refused)")
        return row
    }

    /// One remote-write row against the receiver at `url`, then what the sink counted.
    func remoteWriteRow(_ name: String, url: String, spool: String, logger: Logger) async throws -> Row {
        var remote = RemoteWriteSettings()
        remote.name = "bench"
        remote.url = url
        if let remoteQueue { remote.queue = remoteQueue }
        let q = remote.queue
        print("remote write queue: capacity \(q.capacity), max_samples_per_send \(q.maxSamplesPerSend), max_shards \(q.maxShards)")
        let remoteSink = RemoteWriteSink(settings: remote, spoolPath: spool, version: "bench", logger: logger)
        let remoteTask = Task { try await remoteSink.run() }
        let row = try await measure(name) {
            try await drive { batch in for r in batch { remoteSink.publish(r) } }
        }
        remoteTask.cancel()
        _ = try? await remoteTask.value
        let rwStats = remoteSink.daemonMetrics()
        func rwValue(_ name: String, _ label: String? = nil) -> Int {
            Int(rwStats.first { $0.name == name && (label == nil || $0.labels.contains { $0.1 == label }) }?.value ?? 0)
        }
        print("check: \(name): sent \(rwValue("hpmanager_remote_write_samples_sent_total")) samples, dropped \(rwValue("hpmanager_sink_dropped_total")) (inbox full \(rwValue("hpmanager_remote_write_dropped_samples_total", "inbox_full"))), spooled \(rwValue("hpmanager_remote_write_spooled_samples")) (overflow spilled \(rwValue("hpmanager_remote_write_overflow_spilled_samples_total"))), failed requests \(rwValue("hpmanager_remote_write_failures_total"))"
              + (remoteSink.lastError.isEmpty ? "" : ", last error: \(remoteSink.lastError.prefix(200))"))
        func rwSeconds(_ name: String) -> Double { rwStats.first { $0.name == name }?.value ?? 0 }
        let requests = max(1.0, rwSeconds("hpmanager_remote_write_requests_total"))
        print("check: \(name): " + String(format: "%.0f requests, %.0f samples each, encode %.1f ms and round trip %.1f ms per request (%.2f µs encode per sample), %.0f body bytes each",
                     requests, Double(rwValue("hpmanager_remote_write_samples_sent_total")) / requests, rwSeconds("hpmanager_remote_write_encode_seconds_total") / requests * 1000,
                     rwSeconds("hpmanager_remote_write_request_seconds_total") / requests * 1000,
                     rwSeconds("hpmanager_remote_write_encode_seconds_total") / max(1, Double(rwValue("hpmanager_remote_write_samples_sent_total"))) * 1e6,
                     rwSeconds("hpmanager_remote_write_sent_bytes_total") / requests))
        return row
    }

    /// MQTT: per poll, one topic per register plus the state JSON and availability, QoS 1, retained,
    /// to a real local mosquitto (its CPU is not counted, as for influxd). The row's time runs until
    /// the broker acknowledged everything, so a sink that falls behind shows fewer fields/s done.
    ///
    /// `register_topics: always` is measured on a fleet's first interval (every topic is new, as
    /// before this option existed). `changed` is measured on its second interval, after an unmeasured
    /// first one has published every topic, with `changing` of the registers moving per poll
    /// (temperatures and powers move, setpoints, modes, states and counters of a 10 s poll mostly do not).
    func mqttRow(dir: TemporaryDirectory, logger: Logger, mode: MQTTSettings.RegisterTopics, changing: Int? = nil) async throws -> Row {
        let broker = try MosquittoServer()
        var mqtt = MQTTSettings()
        mqtt.enabled = true
        mqtt.url = broker.url
        mqtt.host = "127.0.0.1"
        mqtt.port = broker.port
        mqtt.clientID = "hpmbench-\(mode)"
        mqtt.registerTopics = mode
        // Every device's registers, state and availability are topics: the outbox must hold them all.
        mqtt.outboxMaxTopics = devices * (registers + 2) + 1000
        let sink = MQTTSink(settings: mqtt, outboxPath: dir.file("mqtt-outbox-\(mode).db"), version: "bench", logger: logger)
        let task = Task { try await sink.run() }
        func value(_ name: String) -> Double { sink.daemonMetrics().first { $0.name == name }?.value ?? 0 }
        let connectDeadline = Date().addingTimeInterval(10)
        while value("hpmanager_mqtt_connected") == 0 && Date() < connectDeadline { try await Task.sleep(for: .milliseconds(20)) }
        // Until the broker acknowledged every topic (bounded: a sink far behind is reported, not waited for).
        func drain() async throws -> Bool {
            let deadline = Date().addingTimeInterval(max(10, seconds))
            while sink.queueDepth > 0 || value("hpmanager_mqtt_outbox_topics") > 0 {
                if Date() > deadline { return false }
                try await Task.sleep(for: .milliseconds(10))
            }
            return true
        }
        if mode == .changed {
            _ = try await drive(tick: 0) { batch in for r in batch { sink.publish(r) } }
            _ = try await drain()
        }
        let acknowledgedBefore = value("hpmanager_mqtt_messages_acknowledged_total")
        var drained = true
        let name = mode == .changed ? "mqtt sink (changed, \(changing ?? registers)/\(registers) move)" : "mqtt sink (QoS 1, topic per register)"
        let row = try await measure(name) {
            let fields = try await drive(tick: mode == .changed ? 1 : 0, changing: changing) { batch in for r in batch { sink.publish(r) } }
            drained = try await drain()
            return fields
        }
        let acknowledged = Int(value("hpmanager_mqtt_messages_acknowledged_total") - acknowledgedBefore)
        print("check: mqtt broker acknowledged \(acknowledged) messages (register_topics \(mode)), outbox \(Int(value("hpmanager_mqtt_outbox_topics"))) topics left"
              + (drained ? "" : " (not drained within the bound)") + ", dropped \(Int(value("hpmanager_sink_dropped_total"))), connection failures \(Int(value("hpmanager_mqtt_connect_failures_total")))")
        task.cancel()
        _ = try? await task.value
        broker.stop()
        return row
    }
}
