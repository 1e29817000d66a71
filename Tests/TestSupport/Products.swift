import Foundation

/// Locates executables built beside the test bundle (`swift build --build-tests` builds them).
public enum Products {
    public struct Missing: Error, CustomStringConvertible {
        public let name: String
        public let searched: String
        public var description: String { "\(name) not found in \(searched); run `swift build --build-tests` (make test does)" }
    }

    public static var binDirectory: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = (exe as NSString).deletingLastPathComponent
        // The test binary may sit inside an .xctest bundle directory.
        while dir.hasSuffix(".xctest") || dir.contains(".xctest/") { dir = (dir as NSString).deletingLastPathComponent }
        return dir
    }

    public static func path(_ name: String) throws -> String {
        let path = binDirectory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else { throw Missing(name: name, searched: binDirectory) }
        return path
    }
}
