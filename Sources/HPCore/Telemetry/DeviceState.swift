/// Life-cycle state of a device, as shown in metrics and on the control socket.
public enum DeviceState: String, Sendable, Hashable, CaseIterable {
    case connecting
    case polling
    case backoff
    case restarting
    case failed
    case stopped
}
