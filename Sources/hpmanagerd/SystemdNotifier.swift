import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's `sd_notify` datagram protocol, without libsystemd: `KEY=VALUE` lines sent to the
/// `AF_UNIX` socket named by `$NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
///
/// Sending never blocks (`MSG_DONTWAIT`): a full or absent socket loses one message, never a thread.
/// Without `$NOTIFY_SOCKET` (not started by systemd) every call is a no-op.
struct SystemdNotifier: Sendable {
    /// `sockaddr_un` bytes and their length; nil when not running under systemd's notify protocol.
    private let address: [UInt8]?
    /// `$WATCHDOG_USEC` when the watchdog is meant for this process (`$WATCHDOG_PID` absent or ours).
    let watchdogInterval: Duration?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        address = environment["NOTIFY_SOCKET"].flatMap(Self.socketAddress)
        if let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0, usec <= 86_400_000_000,
           environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true {
            watchdogInterval = .microseconds(Int64(usec))
        } else {
            watchdogInterval = nil
        }
    }

    var enabled: Bool { address != nil }

    /// Sends one message (`READY=1`, `STATUS=…`, several lines joined by newlines). Returns whether
    /// the datagram left; failures are not errors for the daemon.
    @discardableResult
    func send(_ fields: [String]) -> Bool {
        guard let address else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(fields.joined(separator: "\n").utf8)
        let sent = address.withUnsafeBytes { raw in
            message.withUnsafeBytes { bytes in
                sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL),
                       raw.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
        }
        return sent == message.count
    }

    /// `CLOCK_MONOTONIC` in microseconds, for `RELOADING=1`'s `MONOTONIC_USEC`.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    /// A `sockaddr_un` for `path` (`@` means the abstract namespace), or nil when it does not fit.
    static func socketAddress(_ path: String) -> [UInt8]? {
        var bytes = Array(path.utf8)
        guard bytes.count > 1 || (bytes.count == 1 && bytes[0] != UInt8(ascii: "@")) else { return nil }
        let abstract = bytes[0] == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 } else if bytes[0] != UInt8(ascii: "/") { return nil }
        let pathCapacity = MemoryLayout.size(ofValue: sockaddr_un().sun_path)
        guard bytes.count < pathCapacity else { return nil }
        let family = UInt16(AF_UNIX)
        var address = withUnsafeBytes(of: family) { Array($0) }
        address += bytes
        // A filesystem path is NUL-terminated; an abstract name is exactly its bytes.
        if !abstract { address.append(0) }
        return address
    }
}
