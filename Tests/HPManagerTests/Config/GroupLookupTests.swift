import Foundation
@testable import HPCore
import Testing

/// `control_socket.group` against the real group database (glibc's `getgrnam_r`).
@Suite("Config: group lookup", .harnessThreads, .serialized)
struct GroupLookupTests {
    @Test("a first buffer too small for the entry grows on ERANGE instead of reporting the group unknown")
    func growsOnERANGE() {
        #expect(GroupLookup.gid("root", initialBufferSize: 1) == 0)
        #expect(GroupLookup.gid("no-such-group-hpm", initialBufferSize: 1) == nil)
        #expect(GroupLookup.gid("4242") == 4242)
    }

    /// Before: a fixed 16 KiB buffer, so such a group was "unknown" and the daemon exited 78.
    @Test("a group whose /etc/group entry exceeds 16 KiB (3,000 members) resolves, in control_socket.group too",
          .enabled(if: getuid() == 0 && access("/etc/group", W_OK) == 0, "needs to add a group to /etc/group"))
    func largeGroup() throws {
        var gid: gid_t = 61_000
        while getgrgid(gid) != nil { gid += 1 }
        let name = "hpmbig\(getpid())"
        let members = (0..<3000).map { String(format: "hpmmember%04d", $0) }.joined(separator: ",")
        let entry = "\(name):x:\(gid):\(members)\n"
        #expect(entry.utf8.count > 16 * 1024)
        let original = try String(contentsOfFile: "/etc/group", encoding: .utf8)
        try Self.rewriteGroupFile(original + (original.hasSuffix("\n") || original.isEmpty ? "" : "\n") + entry)
        defer {
            // Only our line goes; whatever else changed meanwhile stays.
            if let now = try? String(contentsOfFile: "/etc/group", encoding: .utf8) {
                try? Self.rewriteGroupFile(now.replacingOccurrences(of: entry, with: ""))
            }
        }
        #expect(GroupLookup.gid(name) == gid)
        let loader = ConfigLoader(builtinModelFiles: [], environment: [:])
        let config = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n",
                                             "collector.yml": "control_socket: {path: /tmp/hpm-unused.sock, group: \(name)}\n"])
        #expect(config.collector.controlSocket.group == name)
    }

    /// In place (same inode, owner and mode), as `vigr` would leave it.
    static func rewriteGroupFile(_ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: "/etc/group"))
        defer { try? handle.close() }
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(text.utf8))
    }
}
