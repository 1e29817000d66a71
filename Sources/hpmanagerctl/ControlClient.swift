import ControlProtocol
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking client of the daemon's control socket: one request line out, one response line in.
struct ControlClient {
    enum Failure: Error {
        case notRunning(String)
        case permissionDenied(String)
        case io(String)
    }

    let path: String
    let timeout: Double

    func send(_ request: ControlRequest) throws -> ControlResponse {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.io("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let code = UnixSocketAddress.connect(fd, to: path)
        if code != 0 {
            switch code {
            case ENOENT, ECONNREFUSED, ENOTDIR:
                throw Failure.notRunning("hpmanagerd is not running (nothing listens on \(path))")
            case ENAMETOOLONG:
                throw Failure.io("socket path too long: \(path)")
            case EACCES, EPERM:
                throw Failure.permissionDenied("permission denied on \(path): run as root or as a member of the socket's group")
            default:
                throw Failure.io("connect \(path): \(String(cString: strerror(code)))")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var line = try encoder.encode(request)
        line.append(UInt8(ascii: "\n"))
        try line.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                guard let base = raw.baseAddress else { return }
                let n = write(fd, base + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; throw Failure.io("write: \(String(cString: strerror(errno)))") }
                offset += n
            }
        }
        var response = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !response.contains(UInt8(ascii: "\n")) {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure.io(errno == EAGAIN ? "no answer within \(Int(timeout)) s" : "read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            response.append(contentsOf: chunk[0..<n])
        }
        guard let end = response.firstIndex(of: UInt8(ascii: "\n")) else { throw Failure.io("the daemon closed the connection without an answer") }
        return try JSONDecoder().decode(ControlResponse.self, from: response[..<end])
    }
}
