import Foundation

/// A child process started by a test, stopped (SIGTERM, then SIGKILL) when the test is done.
public final class ManagedProcess: @unchecked Sendable {
    // `@unchecked Sendable`: `process` and the pipes are configured once in init; Process is thread-safe for signalling.
    public let process = Process()
    public let stdout: LineReader
    public let stderr: LineReader
    private let stdinPipe = Pipe()

    /// - Parameter namespace: a network namespace (`ip netns`) to run in; `ip netns exec` enters it and
    ///   execs the program, so the pid and signals are the program's own.
    public init(executable: String, arguments: [String], environment: [String: String] = [:], directory: String? = nil,
                namespace: String? = nil) throws {
        if let namespace {
            process.executableURL = URL(fileURLWithPath: NetworkLab.ip)
            process.arguments = ["netns", "exec", namespace, executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { _, new in new }
        process.environment = env
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = stdinPipe
        try process.run()
        stdout = LineReader(out.fileHandleForReading)
        stderr = LineReader(err.fileHandleForReading)
    }

    deinit { stop() }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    public func send(_ line: String) {
        stdinPipe.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    public func signal(_ signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Waits for exit up to `timeout` seconds; returns the exit status or nil if still running.
    public func waitForExit(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    /// SIGTERM, then SIGKILL after 5 s.
    @discardableResult
    public func stop() -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        signal(SIGTERM)
        if let status = waitForExit(timeout: 5) { return status }
        signal(SIGKILL)
        return waitForExit(timeout: 5)
    }
}
