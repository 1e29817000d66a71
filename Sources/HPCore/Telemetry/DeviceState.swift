/// Life-cycle state of a device, as shown in metrics and on the control socket.
public enum DeviceState: String, Sendable, Hashable, CaseIterable {
    case connecting
    case polling
    case backoff
    case restarting
    case failed
    /// Answering, but every readable register answers Illegal Data Address (wrong model, unit or offset): not up.
    case misconfigured
    case stopped
}
