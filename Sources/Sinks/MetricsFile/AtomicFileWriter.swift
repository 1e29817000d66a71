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
        let stream = try Stream(path: path, mode: mode)
        do {
            try bytes.withUnsafeBytes { try stream.write($0) }
        } catch {
            stream.abort()
            throw error
        }
        try stream.commit()
    }

    /// A replacement written in pieces (the metrics file streams its text in chunks that stay in
    /// the CPU cache instead of building ~100 MB first): `write` any number of times, then `commit`
    /// (rename over the target) or `abort` (the temp file is removed; the target is untouched).
    public final class Stream {
        public let path: String
        private let temp: String
        private let mode: mode_t
        private var fd: Int32

        public init(path: String, mode: mode_t = 0o644) throws {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
                // 0755: node_exporter (another user) must be able to reach the file whatever the umask.
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o755])
            }
            (fd, temp) = try AtomicFileWriter.createTemp(beside: path, directory: directory, mode: mode)
            self.path = path
            self.mode = mode
        }

        deinit { abort() }

        public func write(_ buffer: UnsafeRawBufferPointer) throws {
            guard fd >= 0 else { throw WriteError(path: temp, operation: "write", code: EBADF) }
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(path: temp, operation: "write", code: errno)
                }
                offset += n
            }
        }

        /// Sets the mode, closes and renames the temp file over `path`; on failure the temp file is removed.
        public func commit() throws {
            guard fd >= 0 else { throw WriteError(path: temp, operation: "commit", code: EBADF) }
            var failure: WriteError?
            // The umask must not decide who may read the file: set the mode on the descriptor.
            if fchmod(fd, mode) != 0 { failure = WriteError(path: temp, operation: "fchmod", code: errno) }
            if close(fd) != 0 && failure == nil && errno != EINTR { failure = WriteError(path: temp, operation: "close", code: errno) }
            fd = -1
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

        /// Drops the temp file (nothing happens once committed or aborted).
        public func abort() {
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
            unlink(temp)
        }
    }

    /// Creates `.<name>.<random>.tmp` exclusively; a leading dot keeps node_exporter (which reads
    /// *.prom only) away from it.
    fileprivate static func createTemp(beside path: String, directory: String, mode: mode_t) throws -> (Int32, String) {
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
