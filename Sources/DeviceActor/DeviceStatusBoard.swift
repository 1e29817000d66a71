import HPCore
import Synchronization

/// The latest status of one device, written by its actor and the supervisor, read by anyone
/// (metrics, control socket) without waiting on the actor. Survives actor restarts, so counters
/// keep counting.
public final class DeviceStatusBoard: Sendable {
    private let status: Mutex<DeviceStatus>

    public init(_ initial: DeviceStatus = DeviceStatus()) {
        status = Mutex(initial)
    }

    public var snapshot: DeviceStatus { status.withLock { $0 } }

    @discardableResult
    public func update(_ change: (inout DeviceStatus) -> Void) -> DeviceStatus {
        status.withLock { value in
            change(&value)
            return value
        }
    }
}
