import DeviceActor
import Drivers
import Foundation
import HPCore
import Sinks
@testable import Supervisor
import Synchronization
import Testing
import TestSupport

/// The fleet's life cycle at its edges: a cancelled fleet service still stops every device, commands
/// after the loop ended are refused instead of waiting forever, and a command queued before start
/// runs after it (against the view that includes the stored runtime devices).
@Suite("Fleet life cycle: start first, stop on cancellation", .harnessThreads, .serialized)
struct FleetLifecycleTests {
    struct Rig {
        let config: Configuration
        let loader: ConfigLoader
        let store: SQLiteStore
        let links: LinkRegistry
        let dir: String

        init(_ harness: DaemonHarness) async throws {
            loader = ConfigLoader(builtinModelFiles: BuiltinModels.files)
            config = try loader.load(directory: harness.dir.path)
            dir = harness.dir.path
            try FileManager.default.createDirectory(atPath: harness.dir.file("state"), withIntermediateDirectories: true)
            store = SQLiteStore(path: harness.files.databasePath, retention: 3600, logger: LogCapture().logger)
            try await store.open()
            links = LinkRegistry(group: Fixtures.loops, throttle: ConnectThrottle(rate: 1000, burst: 1000))
        }

        func control() -> FleetControl {
            let intensity = RestartIntensity(maxRestarts: 3, window: .seconds(10), backoffInitial: .seconds(0.1), backoffMax: .seconds(1),
                                             failedCooldown: .seconds(60))
            let fleet = Fleet(links: links, sink: store, intensity: intensity, logger: LogCapture().logger)
            return FleetControl(initial: config, directory: dir, loader: loader, fleet: fleet, store: store, metrics: nil, logger: LogCapture().logger)
        }
    }

    static func spec(id: String, name: String, port: Int) -> String {
        #"{"id":"\#(id)","name":"\#(name)","model":"nibe_s1155","poll_interval":0.2,"modbus":{"host":"127.0.0.1","port":\#(port),"unit_id":1}}"#
    }

    @Test("fleet service cancelled (not shut down gracefully): every device actor stops, links are released, later commands are refused with shutting_down")
    func cancelledServiceStopsFleet() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "y1", port: sim.ports[0])], interval: 0.2)
        let rig = try await Rig(harness)
        let control = rig.control()
        let fleet = control.fleet
        let task = Task { try await FleetService(control: control).run() }
        _ = try await eventually("y1 running", timeout: 30) { fleet.census.snapshot == ["y1": 1] ? true : nil }
        task.cancel()
        let ended = Mutex(false)
        let waiter = Task { _ = await task.result; ended.withLock { $0 = true } }
        defer { waiter.cancel() }
        _ = try await eventually("the cancelled fleet service to return", timeout: 5) { ended.withLock { $0 } ? true : nil }
        #expect(fleet.census.snapshot.isEmpty, "device actors outlived the cancelled fleet service: \(fleet.census.snapshot)")
        let running = await fleet.runningIDs, children = await fleet.supervisorChildIDs
        #expect(running.isEmpty && children.isEmpty, "running \(running), supervised \(children)")
        #expect(rig.links.linkUsers.isEmpty, "\(rig.links.linkUsers)")
        do {
            _ = try await control.add(spec: Self.spec(id: "late", name: "late", port: sim.ports[1]))
            Issue.record("a command after the loop ended was accepted")
        } catch let error as ControlError {
            #expect(error.code == "shutting_down")
        }
        #expect(control.pendingCommands == 0)
    }

    @Test("an add queued before start, for the id of a stored runtime device: refused as existing, the stored spec is kept")
    func commandBeforeStartSeesStoredDevices() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [], interval: 0.2)
        let rig = try await Rig(harness)
        // A first daemon life stores rt1 at runtime.
        let first = rig.control()
        let firstLoop = Task { await first.run() }
        try await first.start()
        _ = try await first.add(spec: Self.spec(id: "rt1", name: "original", port: sim.ports[0]))
        await first.shutdown()
        await firstLoop.value

        // The next life: a socket add arrives before the fleet service has started the loop.
        let control = rig.control()
        let before = control.pendingCommands
        let early = Task { try await control.add(spec: Self.spec(id: "rt1", name: "overwritten", port: sim.ports[0])) }
        _ = try await eventually("the early add queued", timeout: 30) { control.pendingCommands == before + 1 ? true : nil }
        let loop = Task { await control.run() }
        try await control.start()
        switch await early.result {
        case .success(let device):
            Issue.record("the early add ran against the view without stored devices and replaced rt1 with \(device.name)")
        case .failure(let error):
            #expect((error as? ControlError)?.code == "exists", "\(error)")
        }
        #expect(control.view.configuration.device("rt1")?.name == "original")
        await control.shutdown()
        await loop.value
        // And what is stored is still the original spec.
        let again = rig.control()
        let againLoop = Task { await again.run() }
        try await again.start()
        #expect(again.view.configuration.device("rt1")?.name == "original")
        await again.shutdown()
        await againLoop.value
    }
}
