import BlockingIO
import Foundation
import HPCore
import Logging
import MQTTKit
import ServiceLifecycle
import Synchronization

/// Publishes every poll to an MQTT broker (Mosquitto, EMQX, HiveMQ; Home Assistant, Node-RED, a BMS)
/// without ever blocking polling, and takes writes back when `allow_writes` is on.
///
/// Per device, retained: `<prefix>/<site>/<id>/state` (JSON of the last poll), one topic per register
/// (`register_topics`: those whose value changed, by default, see `MQTTRegisterTopics`), and `…/availability` (`online`/`offline`); per daemon `<prefix>/<site>/status`, `online` on connect
/// and `offline` as Last Will (a killed daemon) and on shutdown. `publish` only posts to a bounded
/// mailbox; the connection thread (`MQTTConnection`) owns libmosquitto and the durable outbox that
/// keeps the newest message per topic across broker outages (QoS 1: kept until PUBACK).
public final class MQTTSink: TelemetrySink, Service, DaemonMetricsSource {
    struct DeviceMemo {
        var labels: DeviceLabels
        /// Its state and availability topics, interned once.
        var stateTopic: MQTTTopicID
        var availabilityTopic: MQTTTopicID
        /// Its register topics and what was last posted to them.
        var registerTopics: MQTTRegisterTopics
        var registers = "{}"
        var lastSuccess: Double?
        /// Discovery config topics published for this device (cleared when it is removed).
        var discoveryTopics: [String] = []
        var described = false
    }

    public let settings: MQTTSettings
    public let outboxPath: String
    private let topics: MQTTTopics
    private let discovery: MQTTDiscovery
    private let clientID: String
    private let logger: Logger
    private let mailbox: MQTTMailbox
    private let topicTable = MQTTTopicTable()
    private let devices = Mutex([String: DeviceMemo]())
    private let catalog: MQTTRegisterCatalog?
    private let write: MQTTWriteHandler?
    private let store: SQLiteStore?
    private let toDescribe: AsyncStream<String>.Continuation
    private let describeStream: AsyncStream<String>
    private let pool = IOThreadPool(maxThreads: 1, name: "hpm-mqtt")
    private let strand: IOStrand

    /// - Parameters:
    ///   - catalog: the registers of a device, for Home Assistant discovery.
    ///   - write: the daemon's write operation; `…/set` is subscribed to only with `allow_writes` and a handler.
    ///   - store: where refusals the sink decides itself (oversized or unreadable payloads) are audited.
    public init(settings: MQTTSettings, outboxPath: String, site: SiteSettings = SiteSettings(), version: String,
                catalog: MQTTRegisterCatalog? = nil, write: MQTTWriteHandler? = nil, store: SQLiteStore? = nil, logger: Logger) {
        self.settings = settings
        self.outboxPath = outboxPath
        topics = MQTTTopics(prefix: settings.topicPrefix, site: site)
        discovery = MQTTDiscovery(topics: topics, prefix: settings.discoveryPrefix, allowWrites: settings.allowWrites && write != nil, version: version)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "host"
        clientID = settings.clientID.isEmpty ? "hpmanager-\(site.isConfigured ? site.id : host)" : settings.clientID
        var logger = logger
        logger[metadataKey: "sink"] = "mqtt"
        self.logger = logger
        mailbox = MQTTMailbox(capacity: settings.outboxMaxTopics)
        self.catalog = catalog
        self.write = write
        self.store = store
        (describeStream, toDescribe) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(10_000))
        strand = IOStrand(pool: pool)
    }

    private var retain: Bool { settings.retain }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        let id = report.device.id
        let up = report.status.up && !report.samples.isEmpty
        let registers = up ? ReadingJSON.encode(report.samples) : nil
        let (memo, describe) = devices.withLock { all -> (DeviceMemo, Bool) in
            var memo = all[id] ?? DeviceMemo(labels: report.device, stateTopic: topicTable.intern(topics.state(id)),
                                             availabilityTopic: topicTable.intern(topics.availability(id)), registerTopics: MQTTRegisterTopics(id: id))
            let relabelled = memo.labels != report.device
            memo.labels = report.device
            if let registers {
                memo.registers = registers
                memo.lastSuccess = report.status.lastSuccess ?? report.timestamp
            }
            let describe = settings.discovery && (!memo.described || relabelled)
            if describe { memo.described = true }
            all[id] = memo
            return (memo, describe)
        }
        var messages: [MQTTOutbox.Message] = []
        if up && settings.registerTopics != .off {
            // A new broker connection (generation) gets every register again: it may have lost the retained ones.
            let generation = mailbox.counters.withLock { $0.connects }
            messages = memo.registerTopics.messages(report.samples, all: settings.registerTopics == .always, generation: generation,
                                                    topics: topics, table: topicTable, retain: retain)
        }
        messages.reserveCapacity(messages.count + 2)
        messages.append(.init(topic: memo.stateTopic, payload: MQTTPayload.state(device: report.device, timestamp: report.timestamp, up: up,
                                                                                    lastSuccess: memo.lastSuccess, registers: memo.registers),
                              retain: retain))
        messages.append(.init(topic: memo.availabilityTopic, payload: up ? MQTTPayload.online : MQTTPayload.offline, retain: true))
        mailbox.post(messages)
        if describe { toDescribe.yield(id) }
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {
        guard !status.up else { return }  // online is said by a successful poll, with its values
        let topic = devices.withLock { $0[device.id]?.availabilityTopic } ?? topicTable.intern(topics.availability(device.id))
        mailbox.post([.init(topic: topic, payload: MQTTPayload.offline, retain: true)])
    }

    public func deviceRemoved(_ id: String) {
        let memo = devices.withLock { $0.removeValue(forKey: id) }
        var messages = [MQTTOutbox.Message(topic: memo?.availabilityTopic ?? topicTable.intern(topics.availability(id)), payload: MQTTPayload.offline, retain: true)]
        // An empty retained config deletes the entity in Home Assistant.
        for topic in memo?.discoveryTopics ?? [] { messages.append(.init(topic: topicTable.intern(topic), payload: [], retain: true)) }
        mailbox.post(messages)
    }

    // MARK: Service

    public func run() async throws {
        defer { pool.shutdown() }
        let (incoming, incomingContinuation) = AsyncStream.makeStream(of: MQTTIncoming.self, bufferingPolicy: .bufferingNewest(1000))
        let configuration = try await strand.runIgnoringCancellation { [self] in try connectionConfiguration() }
        let (mailbox, logger, outboxPath, maxTopics, topicTable) = (mailbox, logger, outboxPath, settings.outboxMaxTopics, topicTable)
        logger.info("MQTT sink starting", metadata: ["url": "\(settings.url)", "protocol": "\(settings.protocolVersion == 5 ? "5" : "3.1.1")", "client_id": "\(clientID)", "topic_base": "\(topics.base)",
                                                     "discovery": "\(settings.discovery)", "allow_writes": "\(configuration.subscribeSets)"])
        if settings.tls && settings.insecureSkipVerify {
            logger.warning("mqtt.insecure_skip_verify is on: the broker's certificate and host name are not verified", metadata: ["url": "\(settings.url)"])
        }
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { [strand] in
                        try await strand.runIgnoringCancellation {
                            let outbox = try MQTTOutbox(path: outboxPath, maxTopics: maxTopics, topics: topicTable)
                            MQTTConnection(configuration: configuration, mailbox: mailbox, outbox: outbox, incoming: incomingContinuation,
                                           logger: logger).run(drainSeconds: 2)
                        }
                    }
                    group.addTask { for await message in incoming { await self.handle(message) } }
                    group.addTask { for await id in self.describeStream { await self.describe(id) } }
                    do {
                        try await group.next()
                    } catch {
                        incomingContinuation.finish()
                        self.toDescribe.finish()
                        throw error
                    }
                    self.toDescribe.finish()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                self.stop()
            }
        } onCancel: {
            mailbox.requestStop()
        }
    }

    /// Says `offline` for every device, then lets the connection thread deliver and disconnect.
    private func stop() {
        let availability = devices.withLock { $0.values.map(\.availabilityTopic) }
        mailbox.post(availability.map { .init(topic: $0, payload: MQTTPayload.offline, retain: true) })
        mailbox.requestStop()
    }

    /// Runs on the sink's strand: the password file is read here, never logged.
    private func connectionConfiguration() throws -> MQTTConnection.Configuration {
        var options = MosquittoClient.Options(clientID: clientID)
        options.protocolVersion = Int32(settings.protocolVersion)
        options.username = settings.username
        if !settings.passwordFile.isEmpty {
            options.password = try String(contentsOfFile: settings.passwordFile, encoding: .utf8).trimmingCharacters(in: .newlines)
        }
        if settings.tls {
            options.tls = .init(caFile: settings.caFile, certFile: settings.certFile, keyFile: settings.keyFile, insecure: settings.insecureSkipVerify)
        }
        options.maxInflight = settings.maxInflight
        options.maxIncomingPayload = settings.maxSetPayload
        return .init(host: settings.host, port: settings.port, options: options, keepalive: settings.keepalive, qos: Int32(settings.qos),
                     subscribeSets: settings.allowWrites && write != nil, reconnectInterval: settings.reconnectInterval,
                     reconnectIntervalMax: settings.reconnectIntervalMax, topics: topics)
    }

    // MARK: Discovery

    private func describe(_ id: String) async {
        guard let catalog else { return }
        guard let registers = await catalog(id) else {
            devices.withLock { $0[id]?.described = false }  // not running yet or any more: its next poll asks again
            return
        }
        guard let labels = devices.withLock({ $0[id]?.labels }) else { return }
        let configs = discovery.messages(device: labels, registers: registers)
        let stale = devices.withLock { all -> [String] in
            guard var memo = all[id] else { return [] }
            let old = memo.discoveryTopics
            memo.discoveryTopics = configs.map(\.topic)
            all[id] = memo
            return old.filter { !memo.discoveryTopics.contains($0) }
        }
        mailbox.post(configs.map { .init(topic: topicTable.intern($0.topic), payload: $0.payload, retain: true) }
                     + stale.map { .init(topic: topicTable.intern($0), payload: [], retain: true) })
        logger.debug("Home Assistant discovery published", metadata: ["heatpump_id": "\(id)", "entities": "\(configs.count)"])
    }

    // MARK: Writes

    private func handle(_ message: MQTTIncoming) async {
        mailbox.counters.withLock { $0.setReceived += 1 }
        guard let write, let (id, register) = topics.parseSet(message.topic) else {
            return await refuse(id: "", register: "", value: "", reason: "not a <prefix>/<site>/<id>/<register>/set topic: \(message.topic.prefix(200))")
        }
        guard !message.truncated else {
            return await refuse(id: id, register: register, value: "", reason: "payload longer than max_set_payload (\(settings.maxSetPayload) bytes)")
        }
        guard let text = String(validating: message.payload, as: UTF8.self) else {
            return await refuse(id: id, register: register, value: "", reason: "payload is not UTF-8 text")
        }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty, !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            return await refuse(id: id, register: register, value: "", reason: "payload is empty or has control characters")
        }
        switch await write(MQTTWrite(heatpumpID: id, register: register, value: value)) {
        case .written(let outcome):
            logger.info("write via MQTT", metadata: ["heatpump_id": "\(id)", "register": "\(register)", "value": "\(value)", "outcome": "\(outcome)"])
        case .refused(let code, let reason):
            mailbox.counters.withLock { $0.setRefused += 1 }
            logger.warning("write via MQTT refused", metadata: ["heatpump_id": "\(id)", "register": "\(register)", "value": "\(value.prefix(64))",
                                                             "code": "\(code)", "error": "\(reason)"])
        }
    }

    /// A payload the sink refuses before any write: counted, logged and audited (result `rejected`, client `mqtt`).
    private func refuse(id: String, register: String, value: String, reason: String) async {
        mailbox.counters.withLock { $0.setRefused += 1 }
        logger.warning("write via MQTT refused", metadata: ["heatpump_id": "\(id)", "register": "\(register)", "error": "\(reason)"])
        guard let store else { return }
        do {
            try await store.audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value, previous: nil, readBack: nil,
                                                  result: "rejected", message: reason, client: "mqtt"))
        } catch {
            logger.error("write audit not stored", metadata: ["heatpump_id": "\(id)", "register": "\(register)", "error": "\(error)"])
        }
    }

    // MARK: Metrics

    public var queueDepth: Int { mailbox.waiting }

    /// Whether the broker connection is up (for the systemd status line).
    public var isConnected: Bool { mailbox.counters.withLock { $0.connected } }

    /// Topics whose newest message waits in the outbox.
    public var outboxTopics: Int { mailbox.counters.withLock { $0.outboxTopics } }

    public func daemonMetrics() -> [DaemonMetric] {
        let c = mailbox.counters.withLock { $0 }
        let sink = [("sink", "mqtt")]
        return [
            DaemonMetric("hpmanager_sink_queue_depth", help: "Points waiting in a sink's in-memory inbox.", labels: sink, value: Double(queueDepth)),
            DaemonMetric("hpmanager_sink_dropped_total", help: "Points a sink dropped (inbox full, spool over its bound, spool not writable).", kind: .counter,
                         labels: sink, value: Double(c.mailboxDropped + c.outboxDropped)),
            DaemonMetric("hpmanager_mqtt_connected", help: "1 while the MQTT broker connection is up.", value: c.connected ? 1 : 0),
            DaemonMetric("hpmanager_mqtt_connects_total", help: "MQTT connections the broker accepted.", kind: .counter, value: Double(c.connects)),
            DaemonMetric("hpmanager_mqtt_connect_failures_total", help: "MQTT connection attempts that failed or connections that were lost.", kind: .counter,
                         value: Double(c.connectFailures)),
            DaemonMetric("hpmanager_mqtt_messages_acknowledged_total", help: "MQTT messages the broker acknowledged (PUBACK).", kind: .counter,
                         value: Double(c.acknowledged)),
            DaemonMetric("hpmanager_mqtt_outbox_topics", help: "Topics whose newest message awaits delivery in the MQTT outbox.", value: Double(c.outboxTopics)),
            DaemonMetric("hpmanager_mqtt_inflight_messages", help: "MQTT messages published and not yet acknowledged.", value: Double(c.inflight)),
            DaemonMetric("hpmanager_mqtt_set_received_total", help: "Messages received on …/set topics.", kind: .counter, value: Double(c.setReceived)),
            DaemonMetric("hpmanager_mqtt_set_refused_total", help: "…/set messages refused (writes disabled, bad payload, validation).", kind: .counter,
                         value: Double(c.setRefused)),
        ]
    }
}
