import ControlProtocol
import HPCore
import Sinks
import Supervisor
import Synchronization

/// Connects the MQTT sink (made before the fleet, like every sink) to the typed operations (made
/// after it): `…/set` goes through `FleetOperations.write`, the control socket's own write
/// (validation, EEPROM budget, read-back, audit), with client `mqtt`.
final class MQTTBridge: Sendable {
    private let operations = Mutex<FleetOperations?>(nil)

    func attach(_ operations: FleetOperations) { self.operations.withLock { $0 = operations } }

    func write(_ w: MQTTWrite) async -> MQTTWriteResult {
        guard let operations = operations.withLock({ $0 }) else { return .refused(code: "unavailable", message: "the daemon is still starting") }
        do {
            let response = try await operations.write(WriteRequest(id: w.heatpumpID, register: w.register, value: WriteValue(w.value), client: "mqtt"))
            return .written(outcome: response.outcome)
        } catch {
            let failure = FleetOperations.commandError(error)
            return .refused(code: failure.code.rawValue, message: failure.message)
        }
    }

    /// The registers the running device polls (template instances expanded, unselected groups left
    /// out: they publish nothing), for Home Assistant discovery.
    func registers(_ id: String) async -> [RegisterDefinition]? {
        guard let operations = operations.withLock({ $0 }) else { return nil }
        do {
            return try await operations.control.runningActor(id).runtime.model.polledRegisters
        } catch {
            return nil  // not running (removed meanwhile): its next poll asks again
        }
    }
}
