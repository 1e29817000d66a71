import Foundation
import Logging
import MQTTKit

/// The MQTT connection, owned by one thread (the sink's I/O strand) for its whole life: it makes
/// every libmosquitto call (connect, publish, subscribe, `mosquitto_loop`), so the client is never
/// shared between threads and libmosquitto starts no thread of its own. Each connection attempt
/// gets a fresh client: the outbox is the only queue (libmosquitto keeps no hidden backlog).
///
/// Loop: take what the sink posted into the outbox; connect when due (doubling, jittered backoff);
/// run the network for up to 50 ms; publish outbox entries while fewer than `max_inflight` await
/// their PUBACK; persist the outbox about once a second.
final class MQTTConnection {
    struct Configuration {
        var host: String
        var port: Int
        var options: MosquittoClient.Options
        var keepalive: Int
        var qos: Int32
        var subscribeSets: Bool
        var reconnectInterval: Double
        var reconnectIntervalMax: Double
        var topics: MQTTTopics
    }

    enum State { case idle, connecting(since: Date), connected }

    static let connectTimeout = 10.0
    static let persistInterval = 1.0

    private let configuration: Configuration
    private let mailbox: MQTTMailbox
    private let outbox: MQTTOutbox
    private let incoming: AsyncStream<MQTTIncoming>.Continuation
    private let logger: Logger
    private var client: MosquittoClient?
    private var state = State.idle
    private var failures = 0
    private var nextAttempt = Date.distantPast
    private var lastPersist = Date()
    private var statusMid: Int32?

    init(configuration: Configuration, mailbox: MQTTMailbox, outbox: MQTTOutbox, incoming: AsyncStream<MQTTIncoming>.Continuation, logger: Logger) {
        self.configuration = configuration
        self.mailbox = mailbox
        self.outbox = outbox
        self.incoming = incoming
        self.logger = logger
    }

    /// Runs until the sink asks it to stop, then says `offline`, delivers what it can within
    /// `drainSeconds`, disconnects and persists the outbox.
    func run(drainSeconds: Double) {
        if !outbox.isEmpty { logger.info("MQTT outbox holds undelivered messages from the last run", metadata: ["topics": "\(outbox.count)"]) }
        while !mailbox.stopRequested { step(now: Date()) }
        shutdown(drainSeconds: drainSeconds)
        incoming.finish()
    }

    private func step(now: Date) {
        absorb()
        if client == nil, now >= nextAttempt { connect(now: now) }
        if let client {
            if case .connected = state { sendReady() }
            let (events, error) = client.loop(timeoutMs: 50)
            handle(events)
            if let error, self.client != nil { lost("\(error)") }
            if case .connecting(let since) = state, now.timeIntervalSince(since) > Self.connectTimeout {
                lost("no CONNACK within \(Int(Self.connectTimeout)) s")
            }
        } else {
            usleep(50_000)
        }
        if now.timeIntervalSince(lastPersist) >= Self.persistInterval { persist(now: now) }
        publishCounters()
    }

    private func absorb() {
        let (messages, dropped) = mailbox.take()
        for m in messages { outbox.put(m) }
        if dropped > 0 { mailbox.counters.withLock { $0.mailboxDropped += dropped } }
    }

    private func connect(now: Date) {
        do {
            let c = try MosquittoClient(configuration.options)
            try c.setWill(topic: configuration.topics.status, payload: MQTTPayload.offline, qos: 1, retain: true)
            try c.connect(host: configuration.host, port: configuration.port, keepalive: configuration.keepalive)
            client = c
            state = .connecting(since: now)
        } catch {
            failed("\(error)")
        }
    }

    private func handle(_ events: [MosquittoEvent]) {
        var acknowledged = 0
        defer { if acknowledged > 0 { mailbox.counters.withLock { $0.acknowledged += acknowledged } } }
        for event in events {
            switch event {
            case .connected(let code):
                guard code == 0 else {
                    lost("broker refused the connection: \(MosquittoClient.connackDescription(code, protocolVersion: configuration.options.protocolVersion)) (\(code))")
                    return
                }
                connected()
            case .disconnected(let code):
                lost("connection closed: \(client?.disconnectDescription(code) ?? "\(code)")")
                return
            case .published(let mid):
                if mid == statusMid { statusMid = nil; continue }
                outbox.acknowledged(mid: mid)
                acknowledged += 1
            case .message(let topic, let payload, let truncated):
                incoming.yield(MQTTIncoming(topic: topic, payload: payload, truncated: truncated))
            }
        }
    }

    private func connected() {
        guard let client else { return }
        if failures > 0 { logger.info("MQTT broker reachable again", metadata: ["failed_attempts": "\(failures)"]) } else {
            logger.info("connected to the MQTT broker", metadata: ["host": "\(configuration.host)", "port": "\(configuration.port)"])
        }
        failures = 0
        state = .connected
        mailbox.counters.withLock { $0.connected = true; $0.connects += 1 }
        do {
            statusMid = try client.publish(topic: configuration.topics.status, payload: MQTTPayload.online, qos: 1, retain: true)
            if configuration.subscribeSets { try client.subscribe(configuration.topics.setPattern, qos: 1) }
        } catch {
            lost("\(error)")
        }
    }

    /// Publishes what the in-flight window allows, corked: one burst leaves in full segments.
    private func sendReady() {
        guard let client, outbox.inflightCount < configuration.options.maxInflight, outbox.hasReady else { return }
        // `client` is held until the burst ends, even if a failure in it drops the connection.
        client.corked { publishBurst(client) }
    }

    private func publishBurst(_ client: MosquittoClient) {
        while outbox.inflightCount < configuration.options.maxInflight, let (topic, entry) = outbox.next() {
            do {
                let mid = try client.publish(topic: outbox.name(topic), payload: entry.payload, qos: configuration.qos, retain: entry.retain)
                outbox.sent(topic, version: entry.version, mid: mid)
            } catch {
                outbox.unsent(topic)
                if error.isUnsendable {
                    logger.error("MQTT message refused by libmosquitto; dropped", metadata: ["topic": "\(outbox.name(topic))", "error": "\(error)"])
                    outbox.acknowledgeUnsendable(topic)
                    continue
                }
                lost("\(error)")
                return
            }
        }
    }

    /// Tears the connection down and schedules the next attempt.
    private func lost(_ reason: String) {
        let wasConnected: Bool
        if case .connected = state { wasConnected = true } else { wasConnected = false }
        client = nil
        state = .idle
        statusMid = nil
        outbox.connectionLost()
        mailbox.counters.withLock { $0.connected = false }
        if wasConnected {
            logger.warning("MQTT connection lost; keeping the newest message per topic in the outbox", metadata: ["error": "\(reason)"])
            failures = 0
        }
        failed(reason)
    }

    private func failed(_ reason: String) {
        failures += 1
        let delay = RetryDelay.doubling(failures: failures, retryAfter: nil, min: configuration.reconnectInterval,
                                        max: configuration.reconnectIntervalMax, jitter: Double.random(in: 0.5...1))
        nextAttempt = Date().addingTimeInterval(delay)
        mailbox.counters.withLock { $0.connectFailures += 1 }
        let metadata: Logger.Metadata = ["host": "\(configuration.host)", "port": "\(configuration.port)", "error": "\(reason)",
                                         "retry_seconds": "\(delay)", "attempt": "\(failures)"]
        if failures == 1 { logger.warning("cannot reach the MQTT broker; retrying", metadata: metadata) } else {
            logger.debug("MQTT connection attempt failed", metadata: metadata)
        }
    }

    private func persist(now: Date) {
        lastPersist = now
        do {
            try outbox.persist()
        } catch {
            logger.error("cannot persist the MQTT outbox", metadata: ["error": "\(error)"])
        }
    }

    private func publishCounters() {
        let (topics, inflight, dropped) = (outbox.count, outbox.inflightCount, outbox.dropped)
        mailbox.counters.withLock {
            $0.outboxTopics = topics
            $0.inflight = inflight
            $0.outboxDropped = dropped
        }
    }

    private func shutdown(drainSeconds: Double) {
        absorb()
        if let client, case .connected = state {
            let deadline = Date().addingTimeInterval(drainSeconds)
            var offlineMid: Int32?
            do {
                offlineMid = try client.publish(topic: configuration.topics.status, payload: MQTTPayload.offline, qos: 1, retain: true)
            } catch {
                logger.debug("cannot publish offline status", metadata: ["error": "\(error)"])
            }
            // Deliver what is waiting (the devices' `offline` availability among it) until the deadline.
            while Date() < deadline, self.client != nil, !(outbox.isEmpty && offlineMid == nil) {
                sendReady()
                let (events, error) = client.loop(timeoutMs: 20)
                for case .published(let mid) in events {
                    if mid == offlineMid { offlineMid = nil } else { outbox.acknowledged(mid: mid); mailbox.counters.withLock { $0.acknowledged += 1 } }
                }
                if error != nil { break }
            }
            client.disconnect()
            _ = client.loop(timeoutMs: 20)
        }
        self.client = nil
        outbox.connectionLost()
        persist(now: Date())
        publishCounters()
        mailbox.counters.withLock { $0.connected = false }
    }
}
