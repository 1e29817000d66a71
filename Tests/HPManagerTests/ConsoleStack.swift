import Foundation
import Testing
import TestSupport

/// hpsim + the real hpmanagerd with its HTTP API on a free loopback port, for the web-console tests.
struct ConsoleStack {
    let sim: SimulatorProcess
    let harness: DaemonHarness
    var daemon: DaemonProcess
    let port: Int
    let api: HTTPAPIClient
    var base: String { "http://127.0.0.1:\(port)" }

    /// - Parameters:
    ///   - devices: (id, location) per simulated NIBE pump, each on its own hpsim port; `spare` ports are left unconfigured.
    init(devices: [(String, String)], spare: Int = 0, http: String = "") async throws {
        sim = try SimulatorProcess(Array(repeating: ["--tcp", "nibe:0"], count: devices.count + spare).flatMap { $0 })
        port = try freeLoopbackPort()
        let sim = self.sim
        harness = try DaemonHarness(devices: devices.enumerated().map { i, d in .init(id: d.0, port: sim.ports[i], name: "Pump \(d.0.uppercased())", location: d.1) },
                                    interval: 0.5, extraSections: """
        http:
          listen: 127.0.0.1:\(port)
        \(http)
        """)
        // A long refresh interval: whatever changes on the page within a test came over the SSE stream.
        try harness.dir.write("display.yml", "refresh_interval: 120\nsparkline_minutes: 30\n")
        daemon = try harness.start()
        api = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        let api = self.api, daemon = self.daemon
        do {
            // Any answer (401 included, when tokens are configured) means the server is up.
            _ = try await eventually("HTTP API up", timeout: 15) { ((try? api.get("/health"))?.status ?? 0) > 0 ? true : nil }
        } catch {
            Issue.record("daemon log:\n\(daemon.log.suffix(4000))")
            throw error
        }
    }

    /// Where browser screenshots go: `.build/test-artifacts/` of this package (gitignored).
    static func artifact(_ name: String, filePath: String = #filePath) -> String {
        let root = URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/test-artifacts/web-console/\(name)").path
    }
}

/// `curl -i`: status, lower-cased response headers and body, for header assertions (ETag, cache, content type).
struct RawHTTP {
    var status: Int
    var headers: [String: String]
    var body: String

    static func get(_ url: String, headers extra: [String] = [], method: String = "GET") throws -> RawHTTP {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = ["-s", "-S", "-i", "--max-time", "10", "-X", method]
        if method == "HEAD" { args = ["-s", "-S", "-I", "--max-time", "10"] }
        for header in extra { args += ["-H", header] }
        process.arguments = args + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return RawHTTP(status: status, headers: headers, body: parts.dropFirst().joined(separator: "\r\n\r\n"))
    }
}
