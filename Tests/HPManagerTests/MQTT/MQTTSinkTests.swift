import Foundation
import SQLiteKit
import Testing
import TestSupport

/// The real hpmanagerd publishing hpsim's values to a real `mosquitto`, read back with `mosquitto_sub`.
@Suite("MQTT sink against a real mosquitto", .harnessThreads, .serialized)
struct MQTTSinkTests {
    static func harness(_ sim: SimulatorProcess, broker: MosquittoServer, extra: String = "") throws -> DaemonHarness {
        let dir = try TemporaryDirectory(prefix: "hpm-mqtt")
        return try DaemonHarness(devices: [.init(id: "hp1", port: sim.ports[0], name: "Cellar NIBE")], interval: 0.3, extraSections: """
        site: {id: zrh-01}
        mqtt:
          url: \(broker.url)
          client_id: hpm-test
          reconnect_interval: 0.1
          reconnect_interval_max: 0.3
          outbox_path: \(dir.path)/outbox.db
        \(extra)
        """, reuse: dir)
    }

    static func retained(_ broker: MosquittoServer, _ topic: String, _ what: String, timeout: Double = 10,
                         _ accept: @escaping (String) -> Bool = { _ in true }) async throws -> String {
        try await eventually(what, timeout: timeout, interval: 0.1) {
            guard let payload = try broker.retained(topic)[topic], accept(payload) else { return nil }
            return payload
        }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("state JSON, per-register topics and availability are retained with hpsim's values; the daemon says online")
    func stateAndRegisters() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness(sim, broker: broker)  // held: its directory lives as long as it does
        let daemon = try harness.start()
        let base = "hpmanager/zrh-01/hp1"
        let state = try Self.json(try await Self.retained(broker, "\(base)/state", "state topic"))
        #expect(state["heatpump_id"] as? String == "hp1")
        #expect(state["up"] as? Bool == true)
        let registers = try #require(state["registers"] as? [String: Any])
        #expect(registers["external_supply_temp"] as? Double == 33.2, "hpsim's constant: \(registers["external_supply_temp"] ?? "absent")")
        #expect(abs((state["timestamp"] as? Double ?? 0) - Date().timeIntervalSince1970) < 30)
        #expect(try await Self.retained(broker, "\(base)/external_supply_temp", "per-register topic") == "33.2")
        #expect(try await Self.retained(broker, "\(base)/availability", "availability") == "online")
        #expect(try await Self.retained(broker, "hpmanager/zrh-01/status", "daemon status") == "online")
        let m = try await DaemonHarness.waitFor(daemon, "MQTT metrics") { ($0.value("hpmanager_mqtt_messages_acknowledged_total") ?? 0) > 0 }
        #expect(m.value("hpmanager_mqtt_connected") == 1)
        #expect(m.value("hpmanager_sink_dropped_total", ["sink": "mqtt"]) == 0)
    }

    @Test("kill -9: the broker publishes the daemon's Last Will, status offline")
    func lastWill() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness(sim, broker: broker)  // held: its directory lives as long as it does
        let daemon = try harness.start()
        _ = try await Self.retained(broker, "hpmanager/zrh-01/status", "online") { $0 == "online" }
        daemon.process.signal(SIGKILL)
        _ = daemon.process.waitForExit(timeout: 5)
        #expect(try await Self.retained(broker, "hpmanager/zrh-01/status", "offline (Last Will)") { $0 == "offline" } == "offline")
    }

    @Test("broker outage: polling goes on, and after the broker returns on the same port the state of the last poll arrives")
    func brokerOutage() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness(sim, broker: broker)  // held: its directory lives as long as it does
        let daemon = try harness.start()
        let base = "hpmanager/zrh-01/hp1"
        _ = try await Self.retained(broker, "\(base)/state", "state before the outage")
        broker.stop()
        let before = try await DaemonHarness.waitFor(daemon, "disconnect noticed") { $0.value("hpmanager_mqtt_connected") == 0 }
        let polls = before.value("heatpump_polls_total", ["heatpump_id": "hp1"]) ?? 0
        _ = try await DaemonHarness.waitFor(daemon, "polls during the outage") { ($0.value("heatpump_polls_total", ["heatpump_id": "hp1"]) ?? 0) >= polls + 3 }
        // The device goes dark during the outage: its last successful poll is the newest state there is.
        try sim.command("down \(sim.ports[0])")
        let down = try await DaemonHarness.waitFor(daemon, "device down, outbox holding") { m in
            DaemonHarness.up(m, "hp1") == 0 && (m.value("hpmanager_mqtt_outbox_topics") ?? 0) > 0
        }
        let lastSuccess = try #require(DaemonHarness.lastSuccess(down, "hp1"))
        try broker.start()
        let state = try Self.json(try await Self.retained(broker, "\(base)/state", "state after the outage") { $0.contains("\"up\":false") })
        #expect(abs((state["last_success"] as? Double ?? 0) - lastSuccess) < 0.01, "the last poll of the outage: \(state["last_success"] ?? "absent") vs \(lastSuccess)")
        #expect(try await Self.retained(broker, "\(base)/availability", "availability offline") { $0 == "offline" } == "offline")
        #expect(try await Self.retained(broker, "hpmanager/zrh-01/status", "online again") == "online")
        _ = try await DaemonHarness.waitFor(daemon, "outbox drained") { $0.value("hpmanager_mqtt_outbox_topics") == 0 && $0.value("hpmanager_mqtt_connected") == 1 }
    }

    @Test("discovery: one config per register, JSON with device, availability, unit and class; writable registers become numbers")
    func discovery() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness(sim, broker: broker, extra: "  discovery: true\n  allow_writes: true")
        let daemon = try harness.start()
        let node = "hpmanager_zrh-01_hp1"
        let configs = try await eventually("discovery configs", timeout: 10, interval: 0.2) {
            let all = try broker.retained("homeassistant/#", seconds: 1)
            return all.count > 20 && all["homeassistant/sensor/\(node)/external_supply_temp/config"] != nil ? all : nil
        }
        let sensor = try Self.json(try #require(configs["homeassistant/sensor/\(node)/external_supply_temp/config"]))
        #expect(sensor["state_topic"] as? String == "hpmanager/zrh-01/hp1/external_supply_temp")
        #expect(sensor["device_class"] as? String == "temperature" && sensor["unit_of_measurement"] as? String == "°C")
        #expect(sensor["state_class"] as? String == "measurement")
        #expect(sensor["unique_id"] as? String == "\(node)_external_supply_temp")
        let device = try #require(sensor["device"] as? [String: Any])
        #expect(device["identifiers"] as? [String] == [node] && device["name"] as? String == "Cellar NIBE" && device["model"] as? String == "nibe_s1155")
        #expect((device["manufacturer"] as? String)?.isEmpty == false)
        let availability = try #require(sensor["availability"] as? [[String: String]])
        #expect(availability.map { $0["topic"] } == ["hpmanager/zrh-01/status", "hpmanager/zrh-01/hp1/availability"])
        let number = try Self.json(try #require(configs["homeassistant/number/\(node)/hot_water_extra_duration/config"]))
        #expect(number["command_topic"] as? String == "hpmanager/zrh-01/hp1/hot_water_extra_duration/set")
        #expect(number["min"] as? Double == 0 && number["max"] as? Double == 65534 && number["step"] as? Double == 1)
        for (topic, payload) in configs { #expect((try? Self.json(payload)) != nil, "\(topic) is JSON") }
        #expect(daemon.process.isRunning)
        #expect(Set(configs.values.compactMap { try? Self.json($0)["unique_id"] as? String }).count == configs.count, "unique ids")
    }

    @Test("writes via …/set reach hpsim when allowed (audited as mqtt); bad payloads are refused and the daemon keeps running")
    func writesAllowed() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness(sim, broker: broker, extra: "  allow_writes: true\n  max_set_payload: 64")
        let daemon = try harness.start()
        _ = try await Self.retained(broker, "hpmanager/zrh-01/hp1/state", "state")
        let set = "hpmanager/zrh-01/hp1/hot_water_extra_duration/set"
        try broker.publish(set, "45")
        _ = try await eventually("hpsim holds 45", timeout: 10, interval: 0.1) {
            try sim.command("get \(sim.ports[0]) 1 holding 225")["value"] as? Int == 45 ? true : nil
        }
        for bad in ["99999", "not a number", String(repeating: "9", count: 200), "\u{01}"] { try broker.publish(set, bad) }
        try broker.publish("hpmanager/zrh-01/hp1/no_such_register/set", "1")
        try broker.publish("hpmanager/zrh-01/ghost/hot_water_extra_duration/set", "1")
        _ = try await DaemonHarness.waitFor(daemon, "refusals counted") { ($0.value("hpmanager_mqtt_set_refused_total") ?? 0) >= 6 }
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 225")["value"] as? Int == 45, "no refused payload was written")
        #expect(daemon.process.isRunning)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        let audit = try db.query("SELECT requested, result FROM write_audit WHERE client = 'mqtt' ORDER BY id").map { $0.map { $0.string ?? "" } }
        #expect(audit.first == ["45", "ok"], "the write, audited with client mqtt: \(audit)")
        #expect(audit.filter { $0[1] == "rejected" }.count >= 4, "refusals audited: \(audit)")
        try broker.publish(set, "30")
        _ = try await eventually("still writing after bad payloads", timeout: 10, interval: 0.1) {
            try sim.command("get \(sim.ports[0]) 1 holding 225")["value"] as? Int == 30 ? true : nil
        }
    }

    @Test("writes are refused (nothing written) unless allow_writes is true")
    func writesDisabled() async throws {
        let broker = try MosquittoServer()
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try Self.harness(sim, broker: broker)  // held: its directory lives as long as it does
        let daemon = try harness.start()
        _ = try await Self.retained(broker, "hpmanager/zrh-01/hp1/state", "state")
        try broker.publish("hpmanager/zrh-01/hp1/hot_water_extra_duration/set", "45")
        // Proof the daemon would have seen it: a later poll publishes the register, still 0.
        let polls = try #require(daemon.metrics()?.value("heatpump_polls_total", ["heatpump_id": "hp1"]))
        _ = try await DaemonHarness.waitFor(daemon, "more polls") { ($0.value("heatpump_polls_total", ["heatpump_id": "hp1"]) ?? 0) >= polls + 3 }
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 225")["value"] as? Int == 0)
        #expect(try await Self.retained(broker, "hpmanager/zrh-01/hp1/hot_water_extra_duration", "register topic") == "0")
        #expect(daemon.metrics()?.value("hpmanager_mqtt_set_received_total") == 0, "not subscribed")
    }
}
