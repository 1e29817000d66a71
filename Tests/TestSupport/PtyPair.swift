import Foundation

/// Two connected pseudo-terminals made by socat (`pty,raw,echo=0` twice), like a null-modem cable.
public final class PtyPair: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init.
    public let first: String
    public let second: String
    private let socat: ManagedProcess

    public init() throws {
        socat = try ManagedProcess(executable: "/usr/bin/socat", arguments: ["-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0"])
        var devices: [String] = []
        while devices.count < 2, let line = socat.stderr.nextLine(timeout: 10) {
            if let range = line.range(of: "PTY is ") { devices.append(String(line[range.upperBound...]).trimmingCharacters(in: [" "])) }
        }
        guard devices.count == 2 else { throw DeadlineExceeded(what: "socat pty pair", seconds: 10) }
        first = devices[0]
        second = devices[1]
    }

    /// socat inherits the test runner's blocked SIGTERM, so it is killed outright.
    public func stop() {
        socat.signal(SIGKILL)
        _ = socat.waitForExit(timeout: 5)
    }
}
