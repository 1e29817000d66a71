import DeviceActor
import HPCore
import Logging

/// Turns supervisor events into status, metrics and log lines.
final class FleetEvents: Sendable {
    let sink: any TelemetrySink
    let logger: Logger
    let boards = DeviceDirectory<BoardEntry>()

    init(sink: any TelemetrySink, logger: Logger) {
        self.sink = sink
        self.logger = logger
    }

    func handle(_ event: ChildEvent) {
        switch event {
        case .restarting(let id, let error, let delay, _):
            logger.error("device actor stopped unexpectedly; restarting", metadata: [
                "heatpump_id": "\(id)", "error": "\(error)", "delay_seconds": "\(delay / .seconds(1))",
            ])
            publish(id) { $0.restartsTotal += 1; $0.state = .restarting; $0.up = false }
        case .failed(let id, let error, let cooldown):
            logger.critical("device exceeded its restart intensity; marked failed", metadata: [
                "heatpump_id": "\(id)", "error": "\(error)", "cooldown_seconds": "\(cooldown / .seconds(1))",
            ])
            publish(id) { $0.state = .failed; $0.up = false; $0.lastError = error }
        case .exited(let id):
            publish(id) { $0.state = .stopped; $0.up = false }
        }
    }

    private func publish(_ id: String, _ change: (inout DeviceStatus) -> Void) {
        guard let entry = boards.get(id) else { return }
        let status = entry.board.update(change)
        sink.deviceStatusChanged(entry.labels, status)
    }
}

/// A device's status board with the labels its series carry.
struct BoardEntry: Sendable {
    var board: DeviceStatusBoard
    var labels: DeviceLabels
}
