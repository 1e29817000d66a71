import HPCore
import Testing
import TestSupport

@Suite("collector.yml http: on by default on loopback; enabled: false turns it off", .harnessThreads)
struct HTTPConfigTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])

    func load(_ collector: String?) throws -> HTTPSettings {
        var files = ["heatpumps.yml": "heatpumps: []\n"]
        if let collector { files["collector.yml"] = collector }
        return try loader.load(files: files).collector.http
    }

    @Test("no collector.yml, or one without http:, serves the API on 127.0.0.1:8080 (as the issue says)",
          arguments: [nil, "collector: {poll_interval: 30}\n"])
    func onByDefault(_ collector: String?) throws {
        let http = try load(collector)
        #expect(http.enabled && http.host == "127.0.0.1" && http.port == 8080 && !http.tls && http.tokens.isEmpty)
    }

    @Test("enabled: false turns it off; an http: section without enabled keeps it on")
    func enabledKey() throws {
        #expect(try load("http:\n  enabled: false\n").enabled == false)
        let moved = try load("http:\n  listen: \"[::1]:9090\"\n")
        #expect(moved.enabled && moved.host == "::1" && moved.port == 9090)
    }

    @Test("the test harness's collector.yml turns HTTP off unless the test asks for it, so parallel daemons never share a port")
    func harnessDisablesHTTP() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-httpcfg")
        let files = IsolatedDaemonFiles(dir)
        #expect(try load(files.collectorYAML(metricsInterval: 1)).enabled == false)
        let asked = try load(files.collectorYAML(metricsInterval: 1, extra: "http:\n  listen: 127.0.0.1:18080\n"))
        #expect(asked.enabled && asked.port == 18080)
    }
}
