import BlockingIO
import Foundation
import HPCore
import Logging
import ServiceLifecycle
import Synchronization

/// Writes every device's latest readings and health as a Prometheus textfile for node_exporter.
///
/// `publish` only stores the latest report per device (a bounded table, never blocks); a writer loop
/// renders and atomically replaces the file every `interval`. A device whose poll failed, or whose
/// last report is older than three poll intervals, keeps `heatpump_up 0` and loses its register series.
public final class MetricsFileSink: TelemetrySink, Service {
    struct Entry {
        var labels: DeviceLabels {
            didSet { if labels != oldValue { labelBytes = Self.labelBytes(labels, site: site) } }
        }
        /// The site's labels (`site="…",region="…",`), the same for every device.
        let site: String
        var status: DeviceStatus
        private(set) var samples: [Sample] = []
        /// `samples` as numbers, for the rewrite's fast path (set with them).
        private(set) var summary = SampleSummary.empty
        var reportedAt: Double
        /// The device's label set as written on every line, built when the labels change, not per rewrite.
        private(set) var labelBytes: [UInt8]

        init(labels: DeviceLabels, site: String, status: DeviceStatus, reportedAt: Double) {
            self.site = site
            self.labels = labels
            self.status = status
            self.reportedAt = reportedAt
            labelBytes = Self.labelBytes(labels, site: site)
        }

        /// The samples and their summary, always together.
        mutating func set(_ samples: [Sample], summary: SampleSummary) {
            self.samples = samples
            self.summary = summary
        }

        static func labelBytes(_ labels: DeviceLabels, site: String) -> [UInt8] {
            Array((site.isEmpty ? MetricsFileSink.labelString(labels) : site + "," + MetricsFileSink.labelString(labels)).utf8)
        }
    }

    struct State {
        var devices: [String: Entry] = [:]
        var help: [String: String] = [:]
        var counters: Set<String> = []
        var writes = 0
        var writeErrors = 0
        /// The current failure episode, logged when it starts and when a write succeeds again.
        var failingSince: Double?
        var episodeErrors = 0
        var reloadsOK = 0
        var reloadsFailed = 0
        var lastReloadOK = true
        var lastReloadAt: Double = 0
        var shuttingDown = false
    }

    public let path: String
    public let interval: Duration
    public let version: String
    /// The git commit of the build (`hpmanager_build_info{commit=…}`).
    public let commit: String
    /// The site this daemon serves: its labels go on every series.
    public let site: SiteSettings
    /// `site="…",region="…"` (empty without a site), rendered once.
    private let siteLabels: String
    private let logger: Logger
    private let state = Mutex(State())
    private let sources = Mutex<[any DaemonMetricsSource]>([])
    /// On-demand renders (`GET /metrics`): one at a time, on a thread of their own (started on the
    /// first scrape), beside the file's rewrites.
    private let scrapeStrand = IOStrand(pool: IOThreadPool(maxThreads: 1, name: "metrics-scrape"))

    public init(path: String, interval: Duration, version: String, commit: String = "unknown", site: SiteSettings = SiteSettings(),
                logger: Logger) {
        self.path = path
        self.site = site
        siteLabels = site.seriesLabels.map { "\($0.name)=\"\(PrometheusText.escapeLabel($0.value))\"" }.joined(separator: ",")
        self.interval = interval
        self.version = version
        self.commit = commit
        self.logger = logger
        let now = Date().timeIntervalSince1970
        state.withLock { $0.lastReloadAt = now }
    }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        // The summary is computed on the caller (a device's event loop), not under the lock the rewrite takes.
        let samples = report.status.up ? report.samples : []
        let summary = SampleSummary(samples)
        state.withLock { state in Self.store(report, samples, summary, site: siteLabels, in: &state.devices[report.device.id]) }
    }

    /// Updates a device's entry in place (one hash lookup), keeping its label bytes unless the labels changed.
    private static func store(_ report: PollReport, _ samples: [Sample], _ summary: SampleSummary, site: String, in slot: inout Entry?) {
        guard var entry = slot else {
            var entry = Entry(labels: report.device, site: site, status: report.status, reportedAt: report.timestamp)
            entry.set(samples, summary: summary)
            slot = entry
            return
        }
        slot = nil  // keeps `entry` uniquely referenced while it changes
        entry.labels = report.device
        entry.status = report.status
        entry.set(samples, summary: summary)
        entry.reportedAt = report.timestamp
        slot = entry
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {
        let now = Date().timeIntervalSince1970
        state.withLock { state in
            var entry = state.devices[device.id] ?? Entry(labels: device, site: siteLabels, status: status, reportedAt: now)
            entry.labels = device
            entry.status = status
            if !status.up { entry.set([], summary: .empty) }
            state.devices[device.id] = entry
        }
    }

    public func deviceRemoved(_ id: String) {
        state.withLock { _ = $0.devices.removeValue(forKey: id) }
    }

    // MARK: Daemon-level inputs

    /// Adds a contributor of `hpmanager_*` series (other sinks, the alert monitor).
    public func addSource(_ source: any DaemonMetricsSource) {
        sources.withLock { $0.append(source) }
    }

    /// Register descriptions become HELP texts.
    public func updateModels(_ models: [String: ModelDefinition]) {
        var help: [String: String] = [:]
        var counters: Set<String> = []
        for model in models.values.sorted(by: { $0.name < $1.name }) {
            // Template registers with every instance, under their shared series name.
            for r in model.everyInstance.registers where help[r.seriesName] == nil {
                let unit = r.unit.isEmpty || r.isEnum || r.isBitmap ? "" : " (\(r.unit))"
                help[r.seriesName] = (r.description.isEmpty ? "Heat pump register \(r.seriesName)" : r.description) + unit
                if r.metricType == .counter { counters.insert(r.seriesName) }
                for field in r.bitmapFields where help[field.name] == nil {
                    help[field.name] = "Bit \(field.bit) of \(r.name) (bitmap_fields): 1 when set, 0 when clear."
                }
            }
        }
        // Derived series (COP, compressor starts, …) have fixed names and texts.
        for (name, text) in DerivedSeries.help where help[name] == nil { help[name] = text }
        state.withLock {
            $0.help = help
            $0.counters = counters
        }
    }

    public func recordReload(success: Bool) {
        let now = Date().timeIntervalSince1970
        state.withLock {
            if success { $0.reloadsOK += 1 } else { $0.reloadsFailed += 1 }
            $0.lastReloadOK = success
            $0.lastReloadAt = now
        }
    }

    // MARK: Service

    /// Rewrites run on a thread of their own (`metrics-file`): a rewrite at 10,000 devices renders and
    /// writes ~100 MB and must block neither the cooperative pool nor a device's event loop, however
    /// slow the disk.
    public func run() async throws {
        // Normal priority: at nice 5 (tried) a loaded machine let the file fall seconds behind the
        // polls it reports, and the fleet benchmark showed no gain for the polls.
        let pool = IOThreadPool(maxThreads: 1, name: "metrics-file")
        let strand = IOStrand(pool: pool)
        defer { pool.shutdown() }
        do {
            try await cancelWhenGracefulShutdown {
                let clock = ContinuousClock()
                var next = clock.now
                while true {
                    try await strand.run { self.writeNow() }
                    // A fixed cadence: the rewrite's own duration does not stretch the interval.
                    next = max(next + self.interval, clock.now)
                    try await Task.sleep(until: next, clock: clock)
                }
            }
        } catch is CancellationError {
            // fall through to the final write
        }
        state.withLock { $0.shuttingDown = true }
        try await strand.runIgnoringCancellation { self.writeNow() }
    }

    /// Renders and replaces the file now.
    ///
    /// Failures come in episodes (disk full, directory gone, permissions): the first failure of each
    /// episode is logged as an error and the first success after it as a recovery, never each attempt.
    public func writeNow() {
        let now = Date().timeIntervalSince1970
        do {
            // Streamed: the text goes to the temp file in chunks as it is rendered (~100 MB at
            // 10,000 devices never sits in memory at once), then replaces the file in one rename.
            let stream = try AtomicFileWriter.Stream(path: path)
            var renderer = MetricsRenderer(spill: { try stream.write($0) })
            render(now: now, into: &renderer)
            renderer.drain()
            if let failure = renderer.failure {
                stream.abort()
                throw failure
            }
            try stream.commit()
            let ended = state.withLock { s -> (since: Double, errors: Int)? in
                s.writes += 1
                defer { s.failingSince = nil; s.episodeErrors = 0 }
                return s.failingSince.map { ($0, s.episodeErrors) }
            }
            if let ended {
                logger.notice("metrics file writable again", metadata: [
                    "path": "\(path)", "failed_writes": "\(ended.errors)", "outage_seconds": "\(Int((now - ended.since).rounded()))",
                ])
            }
        } catch {
            let started = state.withLock { s -> Bool in
                s.writeErrors += 1
                s.episodeErrors += 1
                guard s.failingSince == nil else { return false }
                s.failingSince = now
                return true
            }
            if started { logger.error("cannot write metrics file", metadata: ["path": "\(path)", "error": "\(error)"]) }
        }
    }

    /// The exposition for a scrape, rendered off the cooperative pool: at 10,000 devices it is
    /// ~100 MB and seconds of CPU, which on the pool would stall every task of the process.
    /// Concurrent scrapes render one after the other (each as of when its render starts); a
    /// response still being sent to a slow client holds its buffer meanwhile.
    public func renderForScrape() async throws -> [UInt8] {
        try await scrapeStrand.run { self.renderBytes(now: Date().timeIntervalSince1970) }
    }

    /// The exposition text for the current state.
    public func render(now: Double) -> String {
        String(decoding: renderBytes(now: now), as: UTF8.self)
    }

    /// The whole exposition in one byte buffer.
    func renderBytes(now: Double) -> [UInt8] {
        var renderer = MetricsRenderer()
        render(now: now, into: &renderer)
        return renderer.out
    }

    /// Renders the exposition into `r`: families outer, devices inner, no per-line strings kept
    /// (10,000 devices × 50 registers is ~600,000 lines per write).
    func render(now: Double, into r: inout MetricsRenderer) {
        let snapshot = state.withLock { $0 }
        var rows: [Row] = []
        rows.reserveCapacity(snapshot.devices.count)
        for id in snapshot.devices.keys.sorted() {
            guard let entry = snapshot.devices[id] else { continue }
            var status = entry.status
            let stale = status.pollInterval > 0 && now - entry.reportedAt > 3 * status.pollInterval + 1
            if snapshot.shuttingDown { status.up = false; status.state = .stopped }
            let up = status.up && !stale
            rows.append(Row(labels: entry.labelBytes, model: entry.labels.model, status: status, up: up, samples: up ? entry.samples : [],
                            summary: up ? entry.summary : .empty))
        }
        if r.spill == nil { r.out.reserveCapacity(4096 + rows.count * (400 + 160 * (rows.first?.samples.count ?? 0))) }
        let columns = RowColumns(labels: rows.map(\.labels), summaries: rows.map(\.summary))
        columns.withView { view in renderDevices(rows, view, help: snapshot.help, counters: snapshot.counters, into: &r) }
        var families = MetricFamilies(prefix: siteLabels)
        if site.isConfigured {
            // The prefix adds `site` and the extra labels; the name is only here.
            families.add("hpmanager_site_info", help: "The site this daemon serves (collector.yml site:); its labels are on every series.",
                         labels: "site_name=\"\(PrometheusText.escapeLabel(site.name.isEmpty ? site.id : site.name))\"", value: 1)
        }
        for source in sources.withLock({ $0 }) {
            for metric in source.daemonMetrics() {
                let labels = metric.labels.map { "\($0.0)=\"\(PrometheusText.escapeLabel($0.1))\"" }.joined(separator: ",")
                families.add(metric.name, help: metric.help, kind: metric.kind == .counter ? .counter : .gauge, labels: labels, value: metric.value)
            }
        }
        families.add("hpmanager_build_info", help: "hpmanager version and the git commit it was built from.",
                     labels: "commit=\"\(PrometheusText.escapeLabel(commit))\",version=\"\(PrometheusText.escapeLabel(version))\"", value: 1)
        var counts: [DeviceState: Int] = [:]
        for row in rows { counts[row.status.state, default: 0] += 1 }
        for state in DeviceState.allCases {
            families.add("hpmanager_devices", help: "Configured devices by life-cycle state.", labels: "state=\"\(state.rawValue)\"", value: Double(counts[state] ?? 0))
        }
        families.add("hpmanager_metrics_file_writes_total", help: "Successful rewrites of this file.", kind: .counter, labels: "", value: Double(snapshot.writes))
        families.add("hpmanager_metrics_file_write_errors_total", help: "Failed rewrites of this file.", kind: .counter, labels: "", value: Double(snapshot.writeErrors))
        families.add("hpmanager_metrics_file_timestamp_seconds", help: "Unix time this file was rendered.", labels: "", value: (now * 1000).rounded() / 1000)
        families.add("hpmanager_config_reloads_total", help: "Configuration reloads by result.", kind: .counter, labels: "result=\"success\"", value: Double(snapshot.reloadsOK))
        families.add("hpmanager_config_reloads_total", help: "Configuration reloads by result.", kind: .counter, labels: "result=\"failure\"", value: Double(snapshot.reloadsFailed))
        families.add("hpmanager_config_last_reload_successful", help: "Whether the last configuration reload succeeded.", labels: "", value: snapshot.lastReloadOK ? 1 : 0)
        families.add("hpmanager_config_last_reload_timestamp_seconds", help: "Unix time of the last (re)load attempt.", labels: "", value: snapshot.lastReloadAt.rounded())
        r.raw(families.render())
    }

    /// The device and register families: families outer, devices inner. Label bytes and numbers come
    /// from `view` (no reference counting per line); only devices with text, labels, bits or template
    /// instances read their `Sample`s.
    private func renderDevices(_ rows: [Row], _ view: RowColumns.View, help: [String: String], counters: Set<String>, into r: inout MetricsRenderer) {
        for family in Self.deviceFamilies where rows.contains(where: { family.value($0) != nil }) {
            r.header(family.name, family.help, family.kind)
            Array(family.name.utf8).withUnsafeBufferPointer { name in
                for i in rows.indices { if let v = family.value(rows[i]) { r.line(name, view.labels(i), nil, v) } }
            }
        }
        if !rows.isEmpty {
            r.header("heatpump_state", "Life-cycle state of the device actor (1 for the current state).", .gauge)
            Array("heatpump_state".utf8).withUnsafeBufferPointer { name in
                for i in rows.indices {
                    let current = rows[i].status.state
                    for (state, extra) in Self.stateLabels {
                        extra.withUnsafeBufferPointer { r.line(name, view.labels(i), $0, state == current ? 1 : 0) }
                    }
                }
            }
        }
        // Register families: index (row, sample) by family, then stream each family.
        var index = FamilyIndex()
        for i in rows.indices { index.add(rows[i].samples, row: i, model: rows[i].model) }
        for (name, members) in index.sortedFamilies() {
            let metric = "heatpump_" + PrometheusText.sanitize(name)
            // What the family needs beyond numbers; only devices with text, labels, bits or template
            // instances (not `plain`) can add any of it.
            var text = false, labelled = false, bits = false
            for (ri, si) in members where !view.plain(ri) {
                let sample = rows[ri].samples[si]
                text = text || sample.value.isText
                labelled = labelled || sample.label != nil
                bits = bits || !sample.bits.isEmpty
            }
            if text {
                // Text registers: an info series with the text as a label, as node_exporter's *_info.
                let infoMetric = metric + "_info"
                r.header(infoMetric, help[name] ?? "Heat pump register \(name) (text).", .gauge)
                for (ri, si) in members {
                    if case .string(let text) = rows[ri].samples[si].value {
                        r.line(infoMetric, view.labels(ri), Self.extra(rows[ri].samples[si], "value=\"\(PrometheusText.escapeLabel(text))\""), 1)
                    }
                }
                continue
            }
            let kind: MetricFamily.Kind = counters.contains(name) || name.hasSuffix("_total") ? .counter : .gauge
            r.header(metric, help[name] ?? "Heat pump register \(name)", kind)
            Array(metric.utf8).withUnsafeBufferPointer { metricBytes in
                for (ri, si) in members {
                    if view.plain(ri) {
                        // Numbers only: no Sample is read.
                        r.line(metricBytes, view.labels(ri), nil, view.number(ri, si))
                        continue
                    }
                    let sample = rows[ri].samples[si]
                    if sample.instance == nil {
                        r.line(metricBytes, view.labels(ri), nil, sample.value.doubleValue)
                    } else {
                        // Template instances (circuit="A") carry their labels.
                        r.line(metric, view.labels(ri), Self.extra(sample, nil), sample.value.doubleValue)
                    }
                }
            }
            if labelled {
                let stateMetric = metric + "_state"
                r.header(stateMetric, "Label of \(name) (enum_values); 1 for the current state.", .gauge)
                for (ri, si) in members {
                    if let label = rows[ri].samples[si].label {
                        r.line(stateMetric, view.labels(ri), Self.extra(rows[ri].samples[si], "state=\"\(PrometheusText.escapeLabel(label))\""), 1)
                    }
                }
            }
            if bits {
                let bitMetric = metric + "_bit"
                r.header(bitMetric, "Set bits of \(name) (bitmap); one series per set bit.", .gauge)
                Array(bitMetric.utf8).withUnsafeBufferPointer { bitMetricBytes in
                    for (ri, si) in members {
                        let sample = rows[ri].samples[si]
                        for bit in sample.bits {
                            if sample.instance == nil, bit < Self.bitLabels.count {
                                Self.bitLabels[bit].withUnsafeBufferPointer { r.line(bitMetricBytes, view.labels(ri), $0, 1) }
                            } else {
                                r.line(bitMetric, view.labels(ri), Self.extra(sample, "bit=\"\(bit)\""), 1)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `state="…"` per state and `bit="n"` per bit, built once instead of once per line.
    static let stateLabels = DeviceState.allCases.map { ($0, Array("state=\"\($0.rawValue)\"".utf8)) }
    static let bitLabels = (0..<64).map { Array("bit=\"\($0)\"".utf8) }

    /// One device in one rewrite. A class: the rewrite passes rows around ~20 times per device
    /// (family closures, scans), and copying a struct of six reference-counted fields each time
    /// showed as ~6 % of a rewrite.
    final class Row: Sendable {
        let labels: [UInt8]
        let model: String
        let status: DeviceStatus
        let up: Bool
        let samples: [Sample]
        let summary: SampleSummary

        init(labels: [UInt8], model: String, status: DeviceStatus, up: Bool, samples: [Sample], summary: SampleSummary) {
            self.labels = labels
            self.model = model
            self.status = status
            self.up = up
            self.samples = samples
            self.summary = summary
        }
    }

    struct DeviceFamily: Sendable {
        var name: String
        var help: String
        var kind: MetricFamily.Kind
        var value: @Sendable (Row) -> Double?
    }

    static let deviceFamilies: [DeviceFamily] = [
        DeviceFamily(name: "heatpump_up", help: "Whether the last poll of the heat pump succeeded (1) or not (0).", kind: .gauge) { $0.up ? 1 : 0 },
        DeviceFamily(name: "heatpump_last_success_timestamp_seconds", help: "Unix time of the last successful poll.", kind: .gauge) { $0.status.lastSuccess },
        DeviceFamily(name: "heatpump_poll_duration_seconds", help: "Duration of the last poll in seconds.", kind: .gauge) { $0.status.pollDuration },
        DeviceFamily(name: "heatpump_polls_total", help: "Polls since the daemon started (successful or not).", kind: .counter) { Double($0.status.pollsTotal) },
        DeviceFamily(name: "heatpump_polls_late_total", help: "Scheduled polls that started more than 10% of the interval late.", kind: .counter) { Double($0.status.pollsLateTotal) },
        DeviceFamily(name: "heatpump_poll_lag_seconds", help: "How late the last poll started after its slot.", kind: .gauge) { $0.status.pollLag },
        DeviceFamily(name: "heatpump_poll_errors_total", help: "Failed polls since the daemon started.", kind: .counter) { Double($0.status.pollErrorsTotal) },
        DeviceFamily(name: "heatpump_restarts_total", help: "Restarts of the device's actor by the supervisor.", kind: .counter) { Double($0.status.restartsTotal) },
        DeviceFamily(name: "heatpump_poll_overruns_total", help: "Poll slots skipped because a poll overran its interval.", kind: .counter) { Double($0.status.pollOverrunsTotal) },
        DeviceFamily(name: "heatpump_modbus_requests", help: "Modbus requests the last poll needed.", kind: .gauge) { Double($0.status.requestsPerPoll) },
        DeviceFamily(name: "heatpump_quarantined_registers", help: "Registers left out of polls after Illegal Data Address.", kind: .gauge) { Double($0.status.quarantinedRegisters.count) },
    ]

    /// A template instance's labels (`circuit="A"`) before the series' own label, if any.
    static func extra(_ sample: Sample, _ own: String?) -> String? {
        guard let instance = sample.instance else { return own }
        var text = instance.labels.map { "\($0.name)=\"\(PrometheusText.escapeLabel($0.value))\"" }.joined(separator: ",")
        if let own { text += "," + own }
        return text
    }

    static func labelString(_ d: DeviceLabels) -> String {
        "heatpump_id=\"\(PrometheusText.escapeLabel(d.id))\",name=\"\(PrometheusText.escapeLabel(d.name))\",location=\"\(PrometheusText.escapeLabel(d.location))\",model=\"\(PrometheusText.escapeLabel(d.model))\",manufacturer=\"\(PrometheusText.escapeLabel(d.manufacturer))\""
    }
}
