import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Replaces a file atomically: write a temp file beside it, fsync, rename over the target.
/// Readers (node_exporter) see either the old or the new content, never a partial file.
public enum AtomicFileWriter {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let operation: String
        public let code: Int32
        public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // A leading dot keeps node_exporter (which reads *.prom only) away from the temp file.
        let name = (path as NSString).lastPathComponent
        let temp = (directory.isEmpty ? "" : directory + "/") + ".\(name).\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw WriteError(path: temp, operation: "open", code: errno) }
        var ok = true
        var failure: WriteError?
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = WriteError(path: temp, operation: "write", code: errno)
                    ok = false
                    return
                }
                offset += n
            }
        }
        if ok && fsync(fd) != 0 { failure = WriteError(path: temp, operation: "fsync", code: errno); ok = false }
        close(fd)
        guard ok else {
            unlink(temp)
            throw failure ?? WriteError(path: temp, operation: "write", code: EIO)
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw WriteError(path: path, operation: "rename", code: code)
        }
    }
}
