import HPCore
import ModbusKit

/// What one pass over a device's read plan produced on the link thread.
public struct PollOutcome: Sendable {
    public var samples: [Sample] = []
    /// Modbus requests sent (including splits after Illegal Data Address).
    public var requests = 0
    /// Registers that answered Illegal Function / Illegal Data Address on their own.
    public var rejected: [Int] = []
    /// Registers read successfully (used to release quarantined ones after a re-probe).
    public var answered: [Int] = []
    /// Set when the poll as a whole failed (connection, timeout, other exception).
    public var failure: ModbusError?
    /// Seconds the poll occupied the link (bus time, without waiting for other devices).
    public var linkTime: Double = 0

    public init() {}
}
