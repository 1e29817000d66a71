import Foundation
import HPCore
import Logging
@testable import Sinks
import Testing
import TestSupport

/// `register_topics`: which polls publish the per-register topics, against a real `mosquitto`.
@Suite("MQTT register topics: changed, always, off", .harnessThreads, .serialized)
struct MQTTRegisterTopicsTests {
    static func report(_ values: [Double], up: Bool = true) -> PollReport {
        PollReport(device: DeviceLabels(id: "hp1", name: "hp", location: "", model: "m", manufacturer: "x"), timestamp: Date().timeIntervalSince1970,
                   samples: values.enumerated().map { Sample(register: $0.offset, name: "r\($0.offset)", value: .double($0.element)) },
                   status: DeviceStatus(state: .polling, up: up, lastSuccess: Date().timeIntervalSince1970))
    }

    static func sink(_ broker: MosquittoServer, _ mode: MQTTSettings.RegisterTopics, _ dir: TemporaryDirectory) -> MQTTSink {
        var settings = MQTTSettings()
        settings.enabled = true
        settings.url = broker.url
        settings.host = "127.0.0.1"
        settings.port = broker.port
        settings.clientID = "register-topics-\(mode)"
        settings.reconnectInterval = 0.1
        settings.reconnectIntervalMax = 0.2
        settings.registerTopics = mode
        return MQTTSink(settings: settings, outboxPath: dir.file("outbox-\(mode).db"), version: "test", logger: Logger(label: "t"))
    }

    static func acknowledged(_ sink: MQTTSink) -> Int {
        Int(sink.daemonMetrics().first { $0.name == "hpmanager_mqtt_messages_acknowledged_total" }?.value ?? 0)
    }

    /// Publishes a poll and waits until the broker acknowledged `expected` more messages; returns how many it did.
    static func poll(_ sink: MQTTSink, _ values: [Double], expected: Int) async throws -> Int {
        let before = acknowledged(sink)
        sink.publish(report(values))
        _ = try? await eventually("\(expected) messages acknowledged", timeout: 10, interval: 0.02) {
            acknowledged(sink) - before >= expected && sink.outboxTopics == 0 && sink.queueDepth == 0 ? true : nil
        }
        // Nothing more is on its way once the outbox is empty: what was acknowledged is what the poll sent.
        return acknowledged(sink) - before
    }

    @Test("changed (the default): unchanged registers are not sent again, changed ones are; after the broker restarts (retained messages lost) every register is sent once more")
    func changedOnly() async throws {
        #expect(MQTTSettings().registerTopics == .changed)
        let broker = try MosquittoServer()
        let dir = try TemporaryDirectory()
        let sink = Self.sink(broker, .changed, dir)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        _ = try await eventually("connected", timeout: 10) { sink.isConnected ? true : nil }
        #expect(try await Self.poll(sink, [1, 2, 3, 4, 5], expected: 7) == 7, "first poll: 5 registers, state, availability")
        #expect(try await Self.poll(sink, [1, 2, 3.5, 4, 5], expected: 3) == 3, "one register changed: it, state, availability")
        #expect(try await Self.poll(sink, [1, 2, 3.5, 4, 5], expected: 2) == 2, "nothing changed: state and availability only")
        let retained = try broker.retained("hpmanager/default/hp1/#")
        #expect(retained["hpmanager/default/hp1/r2"] == "3.5" && retained["hpmanager/default/hp1/r0"] == "1", "\(retained)")
        broker.stop()
        _ = try await eventually("disconnect noticed", timeout: 10) { sink.isConnected ? nil : true }
        try broker.start()
        _ = try await eventually("reconnected", timeout: 10) { sink.isConnected ? true : nil }
        #expect(try broker.retained("hpmanager/default/hp1/r0").isEmpty, "the test broker keeps no retained messages across a restart")
        #expect(try await Self.poll(sink, [1, 2, 3.5, 4, 5], expected: 7) == 7, "new connection: every register again")
        #expect(try broker.retained("hpmanager/default/hp1/r0")["hpmanager/default/hp1/r0"] == "1")
        #expect(try await Self.poll(sink, [1, 2, 3.5, 4, 5], expected: 2) == 2)
    }

    @Test("always: every register on every poll; off: state and availability only", arguments: [MQTTSettings.RegisterTopics.always, .off])
    func alwaysAndOff(_ mode: MQTTSettings.RegisterTopics) async throws {
        let broker = try MosquittoServer()
        let dir = try TemporaryDirectory()
        let sink = Self.sink(broker, mode, dir)
        let task = Task { try await sink.run() }
        defer { task.cancel() }
        _ = try await eventually("connected", timeout: 10) { sink.isConnected ? true : nil }
        let perPoll = mode == .always ? 7 : 2
        #expect(try await Self.poll(sink, [1, 2, 3, 4, 5], expected: perPoll) == perPoll)
        #expect(try await Self.poll(sink, [1, 2, 3, 4, 5], expected: perPoll) == perPoll)
        let retained = try broker.retained("hpmanager/default/hp1/#")
        #expect((retained["hpmanager/default/hp1/r0"] != nil) == (mode == .always) && retained["hpmanager/default/hp1/state"] != nil)
    }
}
