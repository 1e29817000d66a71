import Foundation
import Testing
import TestSupport

/// schemathesis (PyPI, in .venv-test, made by `make test`) against the real daemon: generated
/// requests for every operation of the OpenAPI document, checked for 5xx answers, undocumented
/// statuses or content types, and bodies that violate the document's schemas.
@Suite("HTTP API: schemathesis against the running daemon", .harnessThreads)
struct HTTPSchemathesisTests {
    static let schemathesis = DeployFiles.path(".venv-test/bin/schemathesis")
    /// What counts as a finding: a server error, a status or content type the document does not
    /// list for the operation, a body its schema does not accept.
    static let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"

    @Test("bounded run (20 examples per operation, fixed seed): no 5xx, no schema violation, the daemon still serves afterwards")
    func contract() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.schemathesis),
                     "schemathesis is missing: run `make .venv-test/bin/schemathesis` (make test does)")
        let sim = try SimulatorProcess(["--tcp", "nibe:0", "--tcp", "idm:0"])
        let port = try freeLoopbackPort()
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0]),
                                                  .init(id: "idm", port: sim.ports[1], model: "idm_navigator_2", config: "{circuits: [A, B]}")],
                                        interval: 0.5, extraSections: "http:\n  listen: 127.0.0.1:\(port)\n")
        let daemon = try harness.start()
        let api = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        try await HTTPAPITests.waitForAPI(api, daemon)

        let report = harness.dir.file("schemathesis.xml")
        // 503 is the documented answer for a device that cannot be reached (device_error: the fuzzer
        // adds devices at hosts that do not answer, then tests them); any other 5xx is a finding, and
        // the daemon logs every one of those ("HTTP request failed", checked below).
        try harness.dir.write("schemathesis.toml", """
        [checks.not_a_server_error]
        expected-statuses = ["2xx", "3xx", "4xx", "503"]

        """)
        // One worker: with two, CPython 3.11's ast module (hypothesis describes strategies with it)
        // can fail across threads ("AST constructor recursion depth mismatch"), a tool error, not a finding.
        // /api/stream never ends (Server-Sent Events); HTTPAPITests reads it with a deadline.
        let run = try ManagedProcess(executable: Self.schemathesis, arguments: [
            "--config-file", harness.dir.file("schemathesis.toml"), "run", "\(api.base)/api/openapi.json", "--url", api.base, "--checks", Self.checks,
            "--max-examples", "20", "--seed", "20261201", "--workers", "1", "--exclude-path", "/api/stream",
            "--phases", "examples,coverage,fuzzing", "--request-timeout", "10", "--max-time", "45",
            "--generation-database", "none", "--no-color", "--report", "junit", "--report-junit-path", report,
        ], environment: ["SCHEMATHESIS_TELEMETRY": "false"], directory: harness.dir.path)
        let status = run.waitForExit(timeout: 80)
        run.stop()
        let output = run.stdout.transcript.joined(separator: "\n") + "\n" + run.stderr.transcript.joined(separator: "\n")
        #expect(status == 0, "schemathesis found problems (exit \(status.map(String.init) ?? "timeout")):\n\(output.suffix(12_000))")
        #expect(output.contains("passed") || output.contains("Passed"), "no summary: \(output.suffix(2000))")
        #expect(daemon.process.isRunning, "the daemon crashed:\n\(daemon.log.suffix(3000))")
        let health = try api.get("/health")
        #expect(health.status == 200, "after the run: \(health.status) \(health.body)")
        #expect(!daemon.log.contains("HTTP request failed"), "a request failed inside the server:\n\(daemon.log.suffix(3000))")
        #expect(daemon.process.stop() == 0)
    }
}
