import Foundation
import Testing
import TestSupport

/// `protocol: 5`: the real hpmanagerd speaking MQTT 5 to a real mosquitto (which logs each client's
/// protocol: `p5`), with the same state, availability and Last Will as under 3.1.1.
@Suite("MQTT 5 against a real mosquitto", .harnessThreads, .serialized)
struct MQTTProtocol5Tests {
    static func harness(_ sim: SimulatorProcess, broker: MosquittoServer, dir: TemporaryDirectory, extra: String = "") throws -> DaemonHarness {
        try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0], name: "Cellar NIBE")], interval: 0.3, extraSections: """
        site: {id: zrh-01}
        mqtt:
          url: \(broker.url)
          client_id: hpm-v5-test
          protocol: 5
          reconnect_interval: 0.1
          reconnect_interval_max: 0.3
          outbox_path: \(dir.path)/outbox.db
        \(extra)
        """, reuse: dir)
    }

    @Test("MQTT 5: state and availability delivered; a dark device goes offline; kill -9 publishes the Last Will")
    func stateAvailabilityAndWill() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let dir = try TemporaryDirectory(prefix: "hpm-mqtt5")
        let harness = try Self.harness(sim, broker: broker, dir: dir)
        let daemon = try harness.start()
        let base = "hpmanager/zrh-01/hp1"
        let state = try MQTTSinkTests.json(try await MQTTSinkTests.retained(broker, "\(base)/state", "state under MQTT 5"))
        #expect(state["up"] as? Bool == true)
        #expect(try await MQTTSinkTests.retained(broker, "\(base)/availability", "availability online") { $0 == "online" } == "online")
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/status", "daemon online") { $0 == "online" } == "online")
        let connection = try #require(broker.log.split(separator: "\n").first { $0.contains("as hpm-v5-test") }, "\(broker.log)")
        #expect(connection.contains("(p5,"), "the broker saw MQTT 5: \(connection)")

        try sim.command("down \(sim.ports[0])")
        #expect(try await MQTTSinkTests.retained(broker, "\(base)/availability", "availability offline") { $0 == "offline" } == "offline")

        daemon.process.signal(SIGKILL)
        _ = daemon.process.waitForExit(timeout: 5)
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/status", "offline (Last Will)") { $0 == "offline" } == "offline")
    }

    @Test("MQTT 5: a clean shutdown says offline itself (no Will needed) and the broker keeps it")
    func cleanShutdown() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let dir = try TemporaryDirectory(prefix: "hpm-mqtt5")
        let harness = try Self.harness(sim, broker: broker, dir: dir)
        let daemon = try harness.start()
        _ = try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/hp1/availability", "online") { $0 == "online" }
        #expect(daemon.process.stop() == 0)
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/status", "status offline") { $0 == "offline" } == "offline")
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/hp1/availability", "device offline") { $0 == "offline" } == "offline")
        #expect(broker.log.contains("Client hpm-v5-test disconnected."), "a DISCONNECT, not a lost connection: \(broker.log)")
    }

    @Test("MQTT 5: a refused login is logged with the v5 reason (Not authorized), counted, and retried without a crash")
    func refusedLoginReason() async throws {
        let broker = try MosquittoServer(allowAnonymous: false)
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let dir = try TemporaryDirectory(prefix: "hpm-mqtt5")
        let harness = try Self.harness(sim, broker: broker, dir: dir)
        let daemon = try harness.start()
        let m = try await DaemonHarness.waitFor(daemon, "refusals counted") { ($0.value("hpmanager_mqtt_connect_failures_total") ?? 0) >= 2 }
        #expect(m.value("hpmanager_mqtt_connects_total") == 0)
        let warning = try #require(daemon.log.split(separator: "\n").first { $0.contains("cannot reach the MQTT broker") }, "\(daemon.log)")
        #expect(warning.contains("Not authorized (135)"), "the MQTT 5 reason code in words: \(warning)")
        #expect(daemon.process.isRunning)
    }
}
