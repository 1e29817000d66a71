import Foundation
import TestSupport

/// HPManager's real `config/` files (github.com/awhitwam/HPManager at fd31288, the collector we
/// replace), kept byte for byte under Tests/Fixtures/hpmanager; see the README there.
enum HPManagerFixtures {
    static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hpmanager").path
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
    }

    /// A copy of the files in a fresh directory, `overrides` (file name → text) replacing single files.
    static func copy(overrides: [String: String] = [:]) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory(prefix: "hpm-hpmanager")
        for name in ["registers.yml", "display.yml", "heatpumps.yml", "collector.yml"] {
            try dir.write(name, overrides[name] ?? text(name))
        }
        return dir
    }
}
