import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's side of `NOTIFY_SOCKET`: a bound `AF_UNIX` datagram socket collecting every message,
/// each with the monotonic time it arrived. Tests poll `messages` with deadlines.
public final class NotifySocketListener: @unchecked Sendable {
    // `@unchecked Sendable`: `fd` and `path` are immutable; `received` is guarded by `lock`; the
    // reader thread is the only writer.
    public struct Message: Sendable {
        public let fields: [String: String]
        public let at: Double
        public func has(_ key: String, _ value: String? = nil) -> Bool {
            guard let got = fields[key] else { return false }
            return value.map { $0 == got } ?? true
        }
    }

    public let path: String
    private let fd: Int32
    private let lock = NSLock()
    private var received: [Message] = []
    private var closed = false

    public init(directory: String) throws {
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { Glibc.close(fd); throw POSIXError(.EADDRINUSE) }
        // 200 ms receive timeout: the reader notices `close()` promptly.
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in readLoop() }
        thread.start()
    }

    deinit { close() }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        closed = true
    }

    public var messages: [Message] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            lock.lock()
            let stop = closed
            lock.unlock()
            if stop { break }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { continue }
            let text = String(decoding: buffer[0..<count], as: UTF8.self)
            var fields: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
            let message = Message(fields: fields, at: ProcessInfo.processInfo.systemUptime)
            lock.lock()
            received.append(message)
            lock.unlock()
        }
        Glibc.close(fd)
        unlink(path)
    }
}
