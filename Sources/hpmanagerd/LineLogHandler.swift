import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// A swift-log handler writing one line per record as text or JSON, to stderr or an appended file.
struct LineLogHandler: LogHandler {
    enum Format { case text, json }

    /// Serialises writes from all handlers to one descriptor (the log file or stderr).
    ///
    /// A failed write (disk full, file system gone, stderr closed) drops the line and is counted;
    /// it never traps (Foundation's `FileHandle.write(_:)` would), and the start of each failure
    /// episode is reported once on stderr.
    final class Destination: Sendable {
        private struct State {
            var failing = false
            var droppedLines = 0
        }

        private let fd: Int32
        private let path: String?
        private let state = Mutex(State())

        init(path: String?) throws {
            if let path, !path.isEmpty {
                let directory = (path as NSString).deletingLastPathComponent
                if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
                }
                // 0640 and never through a symlink: the daemon may run as root and logs name hosts and devices.
                let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
                guard fd >= 0 else {
                    throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path, NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)])
                }
                self.fd = fd
                self.path = path
            } else {
                fd = STDERR_FILENO
                self.path = nil
            }
        }

        deinit { if fd != STDERR_FILENO { close(fd) } }

        /// Lines lost to failed writes since start.
        var droppedLines: Int { state.withLock { $0.droppedLines } }

        func write(_ line: String) {
            state.withLock { state in
                let code = Self.writeAll(fd, Array(line.utf8))
                if code == 0 {
                    if state.failing, let path {
                        state.failing = false
                        _ = Self.writeAll(STDERR_FILENO, Array("hpmanagerd: log file \(path) writable again (\(state.droppedLines) lines lost so far)\n".utf8))
                    }
                    return
                }
                state.droppedLines += 1
                if !state.failing {
                    state.failing = true
                    if let path {
                        _ = Self.writeAll(STDERR_FILENO, Array("hpmanagerd: cannot write log file \(path): \(String(cString: strerror(code))); dropping log lines\n".utf8))
                    }
                }
            }
        }

        /// Writes everything; returns 0 or the errno of the failure.
        private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32 {
            bytes.withUnsafeBytes { buffer -> Int32 in
                guard let base = buffer.baseAddress else { return 0 }
                var offset = 0
                while offset < buffer.count {
                    let n = Glibc.write(fd, base + offset, buffer.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    if n == 0 { return EIO }
                    offset += n
                }
                return 0
            }
        }
    }

    let label: String
    let format: Format
    let destination: Destination
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = self.metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let timestamp = Self.timestamp()
        switch format {
        case .text:
            let meta = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            destination.write("\(timestamp) \(event.level.rawValue.uppercased()) \(label): \(event.message)\(meta)\n")
        case .json:
            var object: [String: Any] = ["timestamp": timestamp, "level": event.level.rawValue, "logger": label, "message": "\(event.message)"]
            for (key, value) in merged { object[key] = Self.json(value) }
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                destination.write(String(decoding: data, as: UTF8.self) + "\n")
            }
        }
    }

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): "\(c)"
        case .array(let a): a.map(json)
        case .dictionary(let d): d.mapValues(json)
        }
    }

    private static func timestamp() -> String {
        let now = Date()
        var t = time_t(now.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = Int(now.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, millis)
    }
}
