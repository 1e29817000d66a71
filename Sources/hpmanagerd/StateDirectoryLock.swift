import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<state dir>/hpmanagerd.lock`, held for the life of the process.
///
/// Two daemons on one state directory would interleave writes to the store and replay the same
/// spool twice (duplicate points): the second one must stop before it opens either. The kernel drops
/// the lock when the process dies, so a crash never leaves a stale lock behind.
final class StateDirectoryLock: Sendable {
    struct Failure: Error, CustomStringConvertible {
        /// True when another process holds the lock (EX_TEMPFAIL); false for I/O problems.
        let held: Bool
        let description: String
    }

    static let fileName = "hpmanagerd.lock"

    let directory: String
    let path: String
    private let fd: Int32

    init(directory: String) throws {
        self.directory = directory
        path = (directory as NSString).appendingPathComponent(Self.fileName)
        if !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw Failure(held: false, description: "cannot create state directory \(directory): \(error.localizedDescription)")
            }
        }
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else {
            throw Failure(held: false, description: "cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let owner = Self.recordedPID(fd)
            close(fd)
            if code == EWOULDBLOCK {
                let who = owner.map { "another hpmanagerd (pid \($0))" } ?? "another hpmanagerd"
                throw Failure(held: true, description: "\(who) is already running on state directory \(directory) (lock \(path) is held)")
            }
            throw Failure(held: false, description: "cannot lock \(path): \(String(cString: strerror(code)))")
        }
        // Our pid, for the message a second daemon prints and for operators.
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Whether the lock file at `path` is still the one we hold. False once the state directory was
    /// deleted or replaced: the store and spool then write to files nobody will find after a restart.
    var isIntact: Bool {
        var atPath = stat(), held = stat()
        guard stat(path, &atPath) == 0, fstat(fd, &held) == 0 else { return false }
        return atPath.st_dev == held.st_dev && atPath.st_ino == held.st_ino
    }

    /// Whether `directory` is the one this lock guards, however it is spelled (relative, through a
    /// symlink, `..`): its lock file is the very file we hold. A second `flock` on it from this
    /// process would fail as if another daemon held it.
    func guards(directory other: String) -> Bool {
        var candidate = stat(), held = stat()
        let lockFile = (other as NSString).appendingPathComponent(Self.fileName)
        guard stat(lockFile, &candidate) == 0, fstat(fd, &held) == 0 else { return false }
        return candidate.st_dev == held.st_dev && candidate.st_ino == held.st_ino
    }

    private static func recordedPID(_ fd: Int32) -> Int? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int(String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
