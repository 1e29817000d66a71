import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Replaces a file atomically: write a fresh temp file beside it, rename it over the target.
/// Readers (node_exporter) see either the old or the new content, never a partial file.
///
/// The temp file has a random name and is opened `O_CREAT|O_EXCL|O_NOFOLLOW`: a symlink or file
/// planted in the directory by another user is never opened, truncated or written through (the
/// daemon may run as root). No fsync: the file is derived and rewritten every interval; rename alone
/// gives the atomic replacement, and a crash at worst leaves the previous version.
public enum AtomicFileWriter {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let operation: String
        public let code: Int32
        public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
    }

    /// Attempts at a fresh random name before giving up (each collision means something squats the name).
    static let createAttempts = 16

    public static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws {
        try write(Array(text.utf8), to: path, mode: mode)
    }

    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            // 0755: node_exporter (another user) must be able to reach the file whatever the umask.
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o755])
        }
        let (fd, temp) = try createTemp(beside: path, directory: directory, mode: mode)
        var failure: WriteError?
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = WriteError(path: temp, operation: "write", code: errno)
                    return
                }
                offset += n
            }
        }
        // The umask must not decide who may read the file: set the mode on the descriptor.
        if failure == nil && fchmod(fd, mode) != 0 { failure = WriteError(path: temp, operation: "fchmod", code: errno) }
        if close(fd) != 0 && failure == nil && errno != EINTR { failure = WriteError(path: temp, operation: "close", code: errno) }
        if let failure {
            unlink(temp)
            throw failure
        }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw WriteError(path: path, operation: "rename", code: code)
        }
    }

    /// Creates `.<name>.<random>.tmp` exclusively; a leading dot keeps node_exporter (which reads
    /// *.prom only) away from it.
    private static func createTemp(beside path: String, directory: String, mode: mode_t) throws -> (Int32, String) {
        let name = (path as NSString).lastPathComponent
        let prefix = (directory.isEmpty ? "" : directory + "/") + ".\(name)."
        var lastError: Int32 = EEXIST
        for _ in 0..<createAttempts {
            let suffix = String(UInt64.random(in: .min ... .max), radix: 36)
            let temp = prefix + suffix + ".tmp"
            let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 { return (fd, temp) }
            lastError = errno
            if lastError != EEXIST && lastError != EINTR { break }
        }
        throw WriteError(path: prefix + "*.tmp", operation: "open", code: lastError)
    }
}
