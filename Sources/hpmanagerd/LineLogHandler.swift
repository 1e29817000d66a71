import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging

/// A swift-log handler writing one line per record as text or JSON, to stderr or an appended file.
struct LineLogHandler: LogHandler {
    enum Format { case text, json }

    /// Writes the lines of all handlers to one descriptor (the log file or stderr) from a thread of
    /// its own, so that logging never waits for the output.
    ///
    /// A logging thread only appends the line to a bounded buffer: device actors log on their
    /// link's event loop, and a journald stream or pipe that stalls, or a log file on a hung file
    /// system, must not stop polling. Lines beyond the buffer (`maxPendingBytes`) are dropped and
    /// counted, and the writer says how many once it catches up. A failed write (disk full, file
    /// system gone, stderr closed) drops its lines and is counted; it never traps (Foundation's
    /// `FileHandle.write(_:)` would), and the start of each failure episode is reported once on
    /// stderr. `flush` waits for what was buffered before it (the daemon calls it on its way out;
    /// a crash or SIGKILL loses what is still buffered).
    final class Destination: @unchecked Sendable {
        // `@unchecked Sendable`: every mutable field is read and written only with `condition`
        // locked; `fd` and `path` are set once in init.
        static let maxPendingBytes = 4 << 20

        private let fd: Int32
        private let path: String?
        private let condition = NSCondition()
        private var pending: [UInt8] = []
        /// Bytes queued since start, and how many of them the writer has finished with (written or failed).
        private var queued = 0
        private var finished = 0
        /// Threads waiting in `flush`.
        private var flushers = 0
        private var lost = 0
        /// Lines dropped because the buffer was full, not yet reported.
        private var overflowed = 0
        private var failing = false

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
            // The process's one destination: its writer runs until the process exits.
            let thread = Thread { [self] in writeLoop() }
            thread.name = "log-writer"
            thread.start()
        }

        /// Lines lost (buffer full, failed writes) since start.
        var droppedLines: Int { condition.withLock { lost } }

        /// Queues `line` for the writer; never waits for the output.
        func write(_ line: String) {
            var line = line
            line.withUTF8 { bytes in
                condition.withLock {
                    guard pending.count + bytes.count <= Self.maxPendingBytes else {
                        lost += 1
                        overflowed += 1
                        return
                    }
                    pending.append(contentsOf: bytes)
                    queued += bytes.count
                    // With a flusher waiting on the same condition, `signal()` could wake it instead of the writer.
                    if flushers > 0 { condition.broadcast() } else { condition.signal() }
                }
            }
        }

        /// Waits until the lines queued before the call are written (or failed), at most `timeout`
        /// seconds; lines other threads log meanwhile are not waited for.
        func flush(timeout: Double) {
            let deadline = Date().addingTimeInterval(timeout)
            condition.withLock {
                let target = queued
                flushers += 1
                defer { flushers -= 1 }
                while finished < target {
                    if !condition.wait(until: deadline) { break }
                }
            }
        }

        private func writeLoop() {
            var batch: [UInt8] = []
            while true {
                let overflow: Int = condition.withLock {
                    while pending.isEmpty { condition.wait() }
                    swap(&batch, &pending)
                    defer { overflowed = 0 }
                    return overflowed
                }
                let taken = batch.count
                if overflow > 0 {
                    batch += Array("hpmanagerd: log output too slow: \(overflow) log lines dropped\n".utf8)
                }
                written(batch, code: Self.writeAll(fd, batch))
                batch.removeAll(keepingCapacity: true)
                condition.withLock {
                    finished += taken
                    condition.broadcast()  // flushers
                }
            }
        }

        /// Books the outcome of one batch; reports the start and end of a failure episode on stderr.
        private func written(_ batch: [UInt8], code: Int32) {
            let notice: String? = condition.withLock {
                if code == 0 {
                    guard failing, let path else { return nil }
                    failing = false
                    return "hpmanagerd: log file \(path) writable again (\(lost) lines lost so far)\n"
                }
                lost += batch.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                guard !failing else { return nil }
                failing = true
                return path.map { "hpmanagerd: cannot write log file \($0): \(String(cString: strerror(code))); dropping log lines\n" }
            }
            if let notice { _ = Self.writeAll(STDERR_FILENO, Array(notice.utf8)) }
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
