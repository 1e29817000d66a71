import Foundation
import SQLiteKit
import Testing
import TestSupport

/// Fleet changes against the real daemon, its real control socket and a hand-edited SQLite file.
@Suite("Fleet changes through the daemon: one loop, damaged registries", .serialized)
struct FleetDaemonTests {
    /// Sends one request per client at once and returns every reply line.
    static func concurrently(_ socket: String, _ requests: [String]) throws -> [String] {
        let clients = try requests.map { _ in try UnixSocketClient(path: socket) }
        for (client, request) in zip(clients, requests) { client.send(request + "\n") }
        return clients.map { $0.readLine(timeout: 20) ?? "" }
    }

    static func addRequest(_ id: String, port: Int, unit: Int = 1, model: String = "nibe_s1155") -> String {
        #"{"cmd":"add","args":{"device":{"id":"\#(id)","model":"\#(model)","poll_interval":0.3,"modbus":{"host":"127.0.0.1","port":\#(port),"unit_id":\#(unit),"timeout":0.5}}}}"#
    }

    static func events(_ db: SQLiteDatabase, _ kind: String, _ id: String) throws -> Int {
        Int(try db.query("SELECT count(*) FROM events WHERE kind = ?1 AND heatpump_id = ?2", [.text(kind), .text(id)]).first?[0].int ?? -1)
    }

    static func list(_ socket: String) throws -> [[String: Any]] {
        let r = try ControlSocketTests.ctl(socket, ["list", "--json"])
        return (ControlSocketTests.json(r.1)["heatpumps"] as? [[String: Any]]) ?? []
    }

    @Test("20 concurrent socket adds of one id: one `added`, 19 `exists`; 20 removes: one `removed`; one event each; link released once")
    func concurrentAddsAndRemoves() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0:1,2"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: port, unit: 1)], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "y1 up") { DaemonHarness.up($0, "y1") == 1 }

        let adds = try Self.concurrently(harness.socketPath, Array(repeating: Self.addRequest("rt1", port: port, unit: 2), count: 20))
        #expect(adds.filter { $0.contains(#""added":"rt1""#) }.count == 1, "\(adds)")
        #expect(adds.filter { $0.contains(#""code":"exists""#) }.count == 19, "\(adds)")
        let link = "127.0.0.1:\(port)"
        _ = try await DaemonHarness.waitFor(daemon, "rt1 up, the gateway link shared by two devices") {
            DaemonHarness.up($0, "rt1") == 1 && $0.value("hpmanager_link_devices", ["link": link]) == 2
        }

        let removes = try Self.concurrently(harness.socketPath, Array(repeating: #"{"cmd":"remove","args":{"id":"rt1"}}"#, count: 20))
        #expect(removes.filter { $0.contains(#""removed":"rt1""#) }.count == 1, "\(removes)")
        #expect(removes.filter { $0.contains(#""code":"not_found""#) }.count == 19, "\(removes)")
        _ = try await DaemonHarness.waitFor(daemon, "rt1 gone, link kept for y1 alone") {
            !$0.has("heatpump_up", ["heatpump_id": "rt1"]) && $0.value("hpmanager_link_devices", ["link": link]) == 1 && DaemonHarness.up($0, "y1") == 1
        }
        #expect(daemon.process.stop() == 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        #expect(try Self.events(db, "device_added", "rt1") == 1)
        #expect(try Self.events(db, "device_removed", "rt1") == 1)
    }

    @Test("reloads (socket and SIGHUP) overlapping adds, removes, enables and disables from 40 clients: one actor and one link reference per running device, one event per change")
    func reloadStorm() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0:1-6", "--tcp", "nibe:0"])
        let (gateway, single) = (sim.ports[0], sim.ports[1])
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: gateway, unit: 1), .init(id: "y2", port: single)], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "y1, y2 up") { DaemonHarness.up($0, "y1") == 1 && DaemonHarness.up($0, "y2") == 1 }
        let first = try Self.concurrently(harness.socketPath, [Self.addRequest("rt6", port: gateway, unit: 6)])
        #expect(first.first?.contains(#""added":"rt6""#) == true)
        var requests: [String] = []
        for unit in 2...5 {
            requests += Array(repeating: Self.addRequest("rt\(unit)", port: gateway, unit: unit), count: 3)
        }
        requests += Array(repeating: #"{"cmd":"reload"}"#, count: 6)
        requests += Array(repeating: #"{"cmd":"disable","args":{"id":"y2"}}"#, count: 4)
        requests += Array(repeating: #"{"cmd":"remove","args":{"id":"rt6"}}"#, count: 4)
        requests += Array(repeating: #"{"cmd":"disable","args":{"id":"y1"}}"#, count: 2) + Array(repeating: #"{"cmd":"enable","args":{"id":"y1"}}"#, count: 2)
        requests.shuffle()
        let hups = Task.detached { for _ in 0..<5 { kill(daemon.process.pid, SIGHUP); usleep(20_000) } }
        let replies = try Self.concurrently(harness.socketPath, requests)
        await hups.value
        #expect(replies.allSatisfy { $0.contains(#""ok":true"#) || $0.contains(#""code":"exists""#) || $0.contains(#""code":"not_found""#) }, "\(replies)")
        for unit in 2...5 {
            #expect(replies.filter { $0.contains(#""added":"rt\#(unit)""#) }.count == 1, "rt\(unit) added once")
        }
        #expect(replies.filter { $0.contains(#""removed":"rt6""#) }.count == 1)
        // y1 ends enabled or disabled depending on which came last; read the final state from the daemon.
        let list = try Self.list(harness.socketPath)
        let running = Set(list.filter { $0["enabled"] as? Bool == true }.compactMap { $0["id"] as? String })
        #expect(running.isSuperset(of: ["rt2", "rt3", "rt4", "rt5"]) && !running.contains("y2") && !running.contains("rt6"))
        let onGateway = running.filter { $0 != "y2" }.count
        let m = try await DaemonHarness.waitFor(daemon, "every running device up, gateway link counts \(onGateway) devices") { m in
            running.allSatisfy { DaemonHarness.up(m, $0) == 1 } && m.value("hpmanager_link_devices", ["link": "127.0.0.1:\(gateway)"]) == Double(onGateway)
        }
        #expect(m.value("hpmanager_link_devices", ["link": "127.0.0.1:\(single)"]) == nil, "y2's link released (once: no underflow, no leak)")
        #expect(m.value("hpmanager_links") == 1)
        // One actor per device: the gateway serves each running unit at the poll rate of one actor.
        let before = try sim.portStats(gateway)
        try await Task.sleep(for: .seconds(1.5))
        let after = try sim.portStats(gateway)
        let polls = Double(after.requestsTotal - before.requestsTotal) / 9 / Double(onGateway)  // nibe: 9 requests per poll
        #expect(polls >= 2.5 && polls <= 6.5, "≈ 5 polls per device in 1.5 s at 0.3 s, not twice that: \(polls)")

        #expect(daemon.process.stop() == 0)
        let db = try SQLiteDatabase(path: harness.files.databasePath)
        for unit in 2...5 { #expect(try Self.events(db, "device_added", "rt\(unit)") == 1) }
        #expect(try Self.events(db, "device_removed", "rt6") == 1)
        #expect(try Self.events(db, "device_disabled", "y2") == 4, "each successful disable recorded once")
        let reloadsOK = replies.filter { $0.contains(#""unchanged""#) }.count
        let applied = Int(try db.query("SELECT count(*) FROM events WHERE kind = 'config_applied'").first?[0].int ?? -1)
        let hupsHandled = daemon.log.components(separatedBy: "SIGHUP received").count - 1  // pending signals may coalesce
        #expect(hupsHandled >= 1)
        #expect(applied == reloadsOK + hupsHandled, "socket reloads + handled SIGHUPs, each recorded once")
    }
}
