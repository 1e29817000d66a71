import Hummingbird
import NIOCore

/// The per-request context: the peer's address (loopback check) and, after authentication, the caller.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public var caller: APICaller?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Whether the peer is on this machine (127.0.0.0/8, ::1, or IPv4-mapped loopback).
    public var isLoopback: Bool {
        switch remoteAddress {
        case .v4(let address)?:
            return address.address.sin_addr.s_addr.bigEndian >> 24 == 127
        case .v6?:
            guard let ip = remoteAddress?.ipAddress else { return false }
            return ip == "::1" || ip.hasPrefix("::ffff:127.")
        case .unixDomainSocket?: return true
        case nil: return false
        }
    }
}
