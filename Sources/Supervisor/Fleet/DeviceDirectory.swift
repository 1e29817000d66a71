import Synchronization

/// A value per device id, shared between the fleet (writer) and tasks that look devices up.
final class DeviceDirectory<Value: Sendable>: Sendable {
    private let entries = Mutex<[String: Value]>([:])

    func set(_ id: String, _ value: Value) { entries.withLock { $0[id] = value } }
    func remove(_ id: String) { entries.withLock { _ = $0.removeValue(forKey: id) } }
    func get(_ id: String) -> Value? { entries.withLock { $0[id] } }
}
