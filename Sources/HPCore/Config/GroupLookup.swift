#if canImport(Glibc)
import Glibc
#endif

/// Resolves `control_socket.group`: a group name from the system database, or a numeric gid.
public enum GroupLookup {
    /// The gid of `group`, or nil when no such group exists.
    public static func gid(_ group: String) -> gid_t? {
        if let number = UInt32(group), number != UInt32.max { return gid_t(number) }
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let rc = buffer.withUnsafeMutableBufferPointer { b in
            getgrnam_r(group, &entry, b.baseAddress, b.count, &result)
        }
        guard rc == 0, let result else { return nil }
        return result.pointee.gr_gid
    }
}
