import Foundation
import Yams

/// The repository's deploy/ files, and the command-line tools the deploy tests run on them.
enum DeployFiles {
    /// The repository root (this file is Tests/HPManagerTests/DeployFiles.swift).
    static var root: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func text(_ relative: String) throws -> String { try String(contentsOfFile: path(relative), encoding: .utf8) }

    /// A YAML file as plain values (mappings, lists, scalars).
    static func yaml(_ relative: String) throws -> [String: Any] {
        guard let object = try Yams.load(yaml: text(relative)) as? [String: Any] else {
            throw Failure(description: "\(relative): not a YAML mapping")
        }
        return object
    }

    static func json(_ relative: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(relative)))) as? [String: Any] else {
            throw Failure(description: "\(relative): not a JSON object")
        }
        return object
    }

    static func files(in relative: String, suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(relative)).filter { $0.hasSuffix(suffix) }.sorted().map { relative + "/" + $0 }
    }

    /// The Makefile's `RUNTIME_PACKAGES`: the one list of Debian packages the binaries need at run
    /// time. The .deb's Depends, the Docker runtime stage and the README are checked against it.
    static func runtimePackages() throws -> [String] {
        let line = try text("Makefile").split(separator: "\n").first { $0.hasPrefix("RUNTIME_PACKAGES :=") }
        guard let line else { throw Failure(description: "Makefile: no RUNTIME_PACKAGES line") }
        return line.dropFirst("RUNTIME_PACKAGES :=".count).split(separator: " ").map(String.init)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Runs a tool to completion; returns (exit status, stdout + stderr).
    static func run(_ executable: String, _ arguments: [String], in directory: String? = nil, timeout: Double = 30) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
