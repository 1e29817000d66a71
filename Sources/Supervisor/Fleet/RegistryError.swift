/// A table of the runtime registry cannot be read at all. At start the daemon refuses to run
/// (exit 73) rather than guess which devices were disabled; a reload or runtime change fails and
/// nothing changes.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public var table: String
    public var path: String
    public var underlying: String

    public var description: String {
        "cannot read the \(table) table of \(path): \(underlying)"
    }
}
