/// Whether a register may be read, written, or both.
public enum RegisterAccess: String, Sendable, Hashable {
    case read
    case write
    case readWrite = "read_write"

    public init?(configName: String) {
        switch configName.lowercased() {
        case "r", "read", "ro", "read_only": self = .read
        case "w", "write", "wo", "write_only": self = .write
        case "rw", "read_write", "readwrite": self = .readWrite
        default: return nil
        }
    }

    public var isReadable: Bool { self != .write }
    public var isWritable: Bool { self != .read }
}
