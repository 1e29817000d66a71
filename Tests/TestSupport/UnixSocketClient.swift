import ControlProtocol
import Foundation

/// A raw Unix-socket client for robustness tests (garbage, huge lines, half-open connections).
public final class UnixSocketClient: @unchecked Sendable {
    // `@unchecked Sendable`: used by one test task at a time.
    public let fd: Int32
    private var buffer = Data()

    public init(path: String) throws {
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw POSIXError(.EMFILE) }
        let code = UnixSocketAddress.connect(socketFD, to: path)
        guard code == 0 else {
            close(socketFD)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
        }
        // Set only now: a class initializer that throws after every stored property is set runs
        // `deinit`, which closed the socket a second time — by then often another thread's new
        // descriptor (a test's NIO event loop died of EBADF in epoll_wait that way).
        fd = socketFD
    }

    deinit { close(fd) }

    /// Writes everything (ignoring EPIPE when the server already closed).
    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    /// The next line, or nil on timeout/EOF.
    public func readLine(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(remaining * 1000)) > 0 else { return nil }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    /// Whether the server closed the connection (EOF within `timeout`).
    public func closedByPeer(timeout: Double) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK)) == 0
    }
}

/// Open file descriptors of a process (from /proc).
public func openFileDescriptors(pid: Int32) -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
}
