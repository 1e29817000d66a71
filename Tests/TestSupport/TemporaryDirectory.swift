import Foundation

/// A fresh directory under the system temp dir, removed on deinit.
public final class TemporaryDirectory: @unchecked Sendable {
    // `@unchecked Sendable`: only the immutable `path` is stored.
    public let path: String

    public init(prefix: String = "hpm-test") throws {
        let base = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }

    public func write(_ name: String, _ text: String) throws {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
    }
}
