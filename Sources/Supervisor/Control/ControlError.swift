import ControlProtocol

/// The control socket's historical name for `CommandError` (shared with HTTP and hpmanagerctl).
public typealias ControlError = CommandError
