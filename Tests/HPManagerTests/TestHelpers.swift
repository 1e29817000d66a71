import NIOPosix
import DeviceActor
import Drivers
import Foundation
import HPCore
import Logging
import Synchronization
import TestSupport

/// Records everything devices publish.
final class RecordingSink: TelemetrySink {
    private let reports = Mutex<[PollReport]>([])
    private let statuses = Mutex<[DeviceStatus]>([])

    func publish(_ report: PollReport) { reports.withLock { $0.append(report) } }
    func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) { statuses.withLock { $0.append(status) } }
    func deviceRemoved(_ id: String) {}

    var all: [PollReport] { reports.withLock { $0 } }
    var statusChanges: [DeviceStatus] { statuses.withLock { $0 } }
    func reports(for id: String) -> [PollReport] { all.filter { $0.device.id == id } }
}

/// Collects log messages so tests can check what was logged (and how often).
struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        capture.store.withLock { $0.append((event.level, "\(event.message)")) }
    }
}

final class LogCapture: Sendable {
    let store = Mutex<[(Logger.Level, String)]>([])
    var logger: Logger {
        Logger(label: "test") { _ in CapturingLogHandler(capture: self) }
    }
    func count(_ level: Logger.Level, containing text: String) -> Int {
        store.withLock { $0.filter { $0.0 == level && $0.1.contains(text) }.count }
    }
}

enum Fixtures {
    static let loops = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    static func runtime(id: String, port: Int, unit: Int = 1, registers: [RegisterDefinition], interval: Double = 0.5,
                        timeout: Double = 1, retries: Int = 0, collector: CollectorSettings = CollectorSettings()) -> DeviceRuntime {
        let device = DeviceConfig(id: id, name: id, model: "test",
                                  modbus: ModbusSettings(transport: .tcp(host: "127.0.0.1", port: port), unitID: unit,
                                                         timeout: timeout, retries: retries, retryDelay: 0.1),
                                  pollInterval: interval)
        return DeviceRuntime(device: device, model: ModelDefinition(name: "test", manufacturer: "Test", registers: registers),
                             polling: PollingSettings(collector))
    }

    /// Collector settings with a quick reconnect backoff (tests wait in wall-clock time).
    static func quickBackoff(initial: Double, max: Double) -> CollectorSettings {
        var collector = CollectorSettings()
        collector.backoffInitial = initial
        collector.backoffMax = max
        return collector
    }

    /// Starts a device actor polling in its own task.
    static func spawn(_ runtime: DeviceRuntime, link: ModbusLink, sink: RecordingSink, logs: LogCapture = LogCapture()) -> Task<Void, any Error> {
        let actor = DeviceActor(runtime: runtime, link: link, sink: sink, board: DeviceStatusBoard(), logger: logs.logger)
        return Task { try await actor.run() }
    }

    /// The sim's matrix points as register definitions (same names, tables, types and orders).
    static func matrixRegisters(_ points: [ProfilePoint]) -> [RegisterDefinition] {
        points.compactMap { p in
            guard let type = DataType(configName: p.type), let table = RegisterType(configName: p.table),
                  let order = ByteOrder(configName: p.order) else { return nil }
            var r = RegisterDefinition(name: p.name, address: p.address, registerType: table, dataType: type, byteOrder: order)
            r.length = p.length
            return r
        }
    }
}
