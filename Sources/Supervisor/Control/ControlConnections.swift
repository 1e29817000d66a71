import NIOCore
import Synchronization

/// The control server's open connections, so a graceful shutdown can drain them instead of waiting
/// for each client's idle timeout: an idle connection closes at once, one with a request in flight
/// right after its answer (`CloseWhenIdleHandler` acts on `Drain`).
final class ControlConnections: Sendable {
    /// Sent into a connection's pipeline when the server drains.
    struct Drain: Sendable {}

    private struct State {
        var draining = false
        var channels: [ObjectIdentifier: any Channel] = [:]
    }

    private let state = Mutex(State())

    var isDraining: Bool { state.withLock { $0.draining } }

    var count: Int { state.withLock { $0.channels.count } }

    /// Tracks a new connection until it closes; one accepted while draining is drained as soon as
    /// its pipeline is set up.
    func register(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        let draining = state.withLock { s -> Bool in
            if !s.draining { s.channels[key] = channel }
            return s.draining
        }
        guard !draining else {
            // After the initializer has returned: the async channel wrapper is in place by then.
            channel.eventLoop.execute { channel.pipeline.fireUserInboundEventTriggered(Drain()) }
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { _ = $0.channels.removeValue(forKey: key) }
        }
    }

    /// Starts draining every open connection (and those accepted from now on).
    func drain() {
        let channels = state.withLock { s -> [any Channel] in
            s.draining = true
            return Array(s.channels.values)
        }
        for channel in channels { channel.pipeline.fireUserInboundEventTriggered(Drain()) }
    }
}
