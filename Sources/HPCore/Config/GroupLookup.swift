#if canImport(Glibc)
import Glibc
#endif

/// Resolves `control_socket.group`: a group name from the system database, or a numeric gid.
public enum GroupLookup {
    /// Largest buffer tried for one group entry; a group with tens of thousands of members fits.
    static let maxBufferSize = 16 << 20

    /// The gid of `group`, or nil when no such group exists (or its entry exceeds `maxBufferSize`).
    public static func gid(_ group: String) -> gid_t? {
        gid(group, initialBufferSize: 16 * 1024)
    }

    /// `getgrnam_r` with a buffer that doubles on ERANGE (a group with many members), up to `maxBufferSize`.
    static func gid(_ group: String, initialBufferSize: Int) -> gid_t? {
        if let number = UInt32(group), number != UInt32.max { return gid_t(number) }
        var size = max(64, initialBufferSize)
        while size <= maxBufferSize {
            var entry = Glibc.group()
            var result: UnsafeMutablePointer<Glibc.group>?
            var buffer = [CChar](repeating: 0, count: size)
            let rc = buffer.withUnsafeMutableBufferPointer { b in
                getgrnam_r(group, &entry, b.baseAddress, b.count, &result)
            }
            switch rc {
            case 0: return result?.pointee.gr_gid
            case ERANGE: size *= 2
            case EINTR: continue
            default: return nil
            }
        }
        return nil
    }
}
