import DeviceActor
import Drivers
import Foundation
import HPCore
import Sinks
@testable import Supervisor
import Testing
import TestSupport

/// The fleet's command loop through its API, with a real SQLite store, real links and hpsim.
@Suite("Fleet command loop: one actor and one link reference per device", .harnessThreads, .serialized)
struct FleetControlTests {
    @Test("concurrent adds, removes, enables, disables and reloads: exactly one live actor per running device, link refcounts match, nothing after shutdown")
    func storm() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0:1-8"])
        let port = sim.ports[0]
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: port, unit: 1)], interval: 0.3)
        let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files)
        let config = try loader.load(directory: harness.dir.path)
        try FileManager.default.createDirectory(atPath: harness.dir.file("state"), withIntermediateDirectories: true)
        let store = SQLiteStore(path: harness.files.databasePath, retention: 3600, logger: LogCapture().logger)
        try await store.open()
        let links = LinkRegistry(group: Fixtures.loops, throttle: ConnectThrottle(rate: 1000, burst: 1000))
        let intensity = RestartIntensity(maxRestarts: 3, window: .seconds(10), backoffInitial: .seconds(0.1), backoffMax: .seconds(1), failedCooldown: .seconds(60))
        let fleet = Fleet(links: links, sink: store, intensity: intensity, logger: LogCapture().logger)
        let control = FleetControl(initial: config, directory: harness.dir.path, loader: loader, fleet: fleet, store: store, metrics: nil, logger: LogCapture().logger)
        let loop = Task { await control.run() }
        try await control.start()
        let spec = { @Sendable (unit: Int) in #"{"id":"rt\#(unit)","model":"nibe_s1155","poll_interval":0.3,"modbus":{"host":"127.0.0.1","port":\#(port),"unit_id":\#(unit)}}"# }
        _ = try await control.add(spec: spec(8))

        let outcomes = await withTaskGroup(of: String.self) { group in
            for unit in 2...7 { for _ in 0..<5 { group.addTask { (try? await control.add(spec: spec(unit))) != nil ? "added" : "refused" } } }
            for _ in 0..<6 { group.addTask { (try? await control.remove(id: "rt8")) != nil ? "removed" : "refused" } }
            for _ in 0..<6 { group.addTask { if case .success = await control.reload() { "reloaded" } else { "reload failed" } } }
            for i in 0..<6 { group.addTask { (try? await control.setEnabled(id: "y1", i % 2 == 0)) != nil ? "toggled" : "refused" } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == "added" }.count == 6)
        #expect(outcomes.filter { $0 == "removed" }.count == 1)
        #expect(outcomes.filter { $0 == "reloaded" }.count == 6 && outcomes.filter { $0 == "toggled" }.count == 6)

        let view = control.view
        let running = Set(view.configuration.devices.filter(\.enabled).map(\.id))
        #expect(running.isSuperset(of: (2...7).map { "rt\($0)" }) && !running.contains("rt8"))
        #expect(Set(await fleet.runningIDs) == running)
        #expect(Set(await fleet.supervisorChildIDs) == running)
        let census = try await eventually("one live actor per running device", timeout: 5) { () -> [String: Int]? in
            let counts = fleet.census.snapshot
            return Set(counts.keys) == running ? counts : nil
        }
        #expect(census.values.allSatisfy { $0 == 1 }, "\(census)")
        #expect(links.linkUsers == ["tcp://127.0.0.1:\(port)": running.count], "\(links.linkUsers)")

        await control.shutdown()
        await loop.value
        #expect(links.linkUsers.isEmpty, "every reference released exactly once")
        #expect(fleet.census.snapshot.isEmpty)
        await #expect(throws: ControlError.self) { try await control.add(spec: spec(8)) }
        let events = try await store.events()
        for unit in 2...8 { #expect(events.filter { $0.kind == "device_added" && $0.heatpumpID == "rt\(unit)" }.count == 1) }
        #expect(events.filter { $0.kind == "device_removed" }.count == 1)
        #expect(events.filter { $0.kind == "config_applied" }.count == 6)
    }
}
