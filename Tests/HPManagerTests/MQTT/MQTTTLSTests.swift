import Foundation
import Testing
import TestSupport

/// `mqtts://`: the real hpmanagerd against a real mosquitto with a TLS listener whose CA and server
/// certificate `openssl` made for this test.
@Suite("MQTT over TLS against a real mosquitto", .harnessThreads, .serialized)
struct MQTTTLSTests {
    static func harness(_ sim: SimulatorProcess, url: String, tls: String, dir: TemporaryDirectory) throws -> DaemonHarness {
        try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0], name: "Cellar NIBE")], interval: 0.3, extraSections: """
        site: {id: zrh-01}
        mqtt:
          url: \(url)
          client_id: hpm-tls-test
          reconnect_interval: 0.1
          reconnect_interval_max: 0.3
          outbox_path: \(dir.path)/outbox.db
        \(tls)
        """, reuse: dir)
    }

    @Test("mqtts:// with ca_file: the state topic is delivered over TLS, verified against the test CA")
    func stateOverTLS() async throws {
        let pki = try TestCertificates()
        let broker = try MosquittoServer(tls: pki)
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let dir = try TemporaryDirectory(prefix: "hpm-mqtt-tls")
        let harness = try Self.harness(sim, url: broker.tlsURL, tls: "  ca_file: \(pki.caFile)", dir: dir)
        let daemon = try harness.start()
        let state = try MQTTSinkTests.json(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/hp1/state", "state over TLS"))
        #expect(state["up"] as? Bool == true)
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/status", "daemon status") == "online")
        let m = try await DaemonHarness.waitFor(daemon, "acknowledged over TLS") { ($0.value("hpmanager_mqtt_messages_acknowledged_total") ?? 0) > 0 }
        #expect(m.value("hpmanager_mqtt_connected") == 1)
        #expect(m.value("hpmanager_mqtt_connect_failures_total") == 0, "no failed attempt: \(daemon.log.suffix(2000))")
        #expect(broker.log.contains("as hpm-tls-test"), "the daemon connected (to the TLS listener, the only one it knows): \(broker.log)")
    }

    @Test("wrong CA: refused with the TLS reason in the log, failures counted, no crash; the outbox keeps every topic for the next run")
    func wrongCARefused() async throws {
        let pki = try TestCertificates()
        let broker = try MosquittoServer(tls: pki)
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let dir = try TemporaryDirectory(prefix: "hpm-mqtt-tls")
        let wrong = try Self.harness(sim, url: broker.tlsURL, tls: "  ca_file: \(pki.otherCAFile)", dir: dir)
        let daemon = try wrong.start()
        let refused = try await DaemonHarness.waitFor(daemon, "failed attempts, outbox filling") {
            ($0.value("hpmanager_mqtt_connect_failures_total") ?? 0) >= 3 && ($0.value("hpmanager_mqtt_outbox_topics") ?? 0) > 10
        }
        #expect(refused.value("hpmanager_mqtt_connected") == 0)
        #expect(refused.value("hpmanager_mqtt_connects_total") == 0)
        #expect(refused.value("hpmanager_sink_dropped_total", ["sink": "mqtt"]) == 0)
        let warning = try #require(daemon.log.split(separator: "\n").first { $0.contains("cannot reach the MQTT broker") }, "\(daemon.log)")
        #expect(warning.contains("certificate verify failed"), "the TLS reason, not just \"a TLS error\": \(warning)")
        #expect(daemon.process.isRunning)
        #expect(try broker.retained("hpmanager/#", seconds: 0.5).isEmpty, "nothing reached the broker unverified")

        // Same outbox, right CA, and the heat pump dark: register values can only come from the outbox.
        try sim.command("down \(sim.ports[0])")
        #expect(daemon.process.stop() == 0)
        let right = try Self.harness(sim, url: broker.tlsURL, tls: "  ca_file: \(pki.caFile)", dir: dir)
        let restarted = try right.start()
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/hp1/external_supply_temp", "a register value kept in the outbox") == "33.2")
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/hp1/availability", "availability offline") { $0 == "offline" } == "offline")
        #expect(restarted.log.contains("MQTT outbox holds undelivered messages from the last run"))
    }

    @Test("client certificate: a broker that requires one accepts cert_file/key_file signed by its CA and refuses a client without")
    func clientCertificate() async throws {
        let pki = try TestCertificates()
        let broker = try MosquittoServer(tls: pki, requireClientCertificate: true)
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let withCert = try TemporaryDirectory(prefix: "hpm-mqtt-tls")
        let harness = try Self.harness(sim, url: broker.tlsURL, tls: """
          ca_file: \(pki.caFile)
          cert_file: \(pki.clientCert)
          key_file: \(pki.clientKey)
        """, dir: withCert)
        let daemon = try harness.start()
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/status", "status via mutual TLS") == "online")
        #expect(daemon.process.stop() == 0)

        let withoutCert = try TemporaryDirectory(prefix: "hpm-mqtt-tls")
        let bare = try Self.harness(sim, url: broker.tlsURL, tls: "  ca_file: \(pki.caFile)", dir: withoutCert)
        let refused = try bare.start()
        let m = try await DaemonHarness.waitFor(refused, "refused without a client certificate") { ($0.value("hpmanager_mqtt_connect_failures_total") ?? 0) >= 2 }
        #expect(m.value("hpmanager_mqtt_connects_total") == 0)
        #expect(refused.process.isRunning)
    }

    @Test("insecure_skip_verify: a broker whose CA the daemon was not given is accepted only when asked for")
    func insecureSkipVerify() async throws {
        let pki = try TestCertificates()
        let broker = try MosquittoServer(tls: pki)
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let dir = try TemporaryDirectory(prefix: "hpm-mqtt-tls")
        let harness = try Self.harness(sim, url: broker.tlsURL, tls: "  ca_file: \(pki.otherCAFile)\n  insecure_skip_verify: true", dir: dir)
        let daemon = try harness.start()
        #expect(try await MQTTSinkTests.retained(broker, "hpmanager/zrh-01/status", "status without verification") == "online")
        #expect(daemon.log.contains("insecure_skip_verify"), "the daemon warns that it does not verify the broker")
    }
}
