import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization

/// A swift-log handler writing one line per record as text or JSON, to stderr or an appended file.
struct LineLogHandler: LogHandler {
    enum Format { case text, json }

    /// Serialises writes from all handlers to one destination.
    final class Destination: Sendable {
        private let handle: Mutex<FileHandle>

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
                handle = Mutex(FileHandle(fileDescriptor: fd, closeOnDealloc: true))
            } else {
                handle = Mutex(FileHandle.standardError)
            }
        }

        func write(_ line: String) {
            handle.withLock { $0.write(Data(line.utf8)) }
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
