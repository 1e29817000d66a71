import Foundation
import Testing
import TestSupport

/// Secrets in GET /api/settings, and HTTPS from PEM files made by openssl in the test.
@Suite("HTTP API: settings redaction and TLS", .harnessThreads)
struct HTTPSettingsTLSTests {
    /// A self-signed certificate for 127.0.0.1 and localhost.
    static func selfSigned(in dir: TemporaryDirectory) throws -> (cert: String, key: String) {
        let cert = dir.file("tls.crt"), key = dir.file("tls.key")
        let (status, output) = try DeployFiles.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=hpmanagerd test",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        try #require(status == 0, "openssl: \(output)")
        return (cert, key)
    }

    @Test("credentials in the InfluxDB URL (user:pass@, ?p=, ?token=) never appear in GET /api/settings; the redacted view PUTs back unchanged")
    func settingsRedaction() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = try freeLoopbackPort()
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.5, extraSections: """
        influxdb:
          enabled: false
          url: http://writer:S3cretPass@127.0.0.1:8086/?p=QueryPass&token=QueryToken&db=heat
          token: TokenValue123
        http:
          listen: 127.0.0.1:\(port)
        """)
        let daemon = try harness.start()
        let api = HTTPAPIClient(base: "http://127.0.0.1:\(port)")
        try await HTTPAPITests.waitForAPI(api, daemon)
        let settings = try api.get("/api/settings")
        #expect(settings.status == 200, "\(settings.body)")
        for secret in ["S3cretPass", "QueryPass", "QueryToken", "TokenValue123"] {
            #expect(!settings.body.contains(secret), "\(secret) leaked: \(settings.body)")
        }
        let url = (settings.object["influxdb"] as? [String: Any])?["url"] as? String ?? ""
        #expect(url.hasPrefix("http://writer:redacted@127.0.0.1:8086/") && url.contains("db=heat"), "host, user and harmless parameters stay: \(url)")
        #expect((settings.object["influxdb"] as? [String: Any])?["token_set"] as? Bool == true)
        let unchanged = try api.call("PUT", "/api/settings", json: settings.body)
        #expect(unchanged.status == 200, "the redacted view is no change: \(unchanged.body)")
        #expect(!daemon.log.contains("S3cretPass") && !daemon.log.contains("TokenValue123"), "a secret reached the log")
        #expect(daemon.process.stop() == 0)
    }

    @Test("http.tls: HTTPS with a self-signed certificate, verified by curl --cacert; plain HTTP on that port gets no answer")
    func https() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let port = try freeLoopbackPort()
        let dir = try TemporaryDirectory(prefix: "hpm-tls")
        let (cert, key) = try Self.selfSigned(in: dir)
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.5, extraSections: """
        http:
          listen: 127.0.0.1:\(port)
          tls: {cert_file: \(cert), key_file: \(key)}
        """)
        let daemon = try harness.start()
        let health = try await eventually("HTTPS up", timeout: 15) { () -> String? in
            let (status, body) = try DeployFiles.run("/usr/bin/curl", ["-sS", "--max-time", "5", "--cacert", cert, "https://127.0.0.1:\(port)/health"])
            return status == 0 ? body : nil
        }
        #expect(health.contains("\"status\":\"ok\""), "\(health)")
        let (untrusted, _) = try DeployFiles.run("/usr/bin/curl", ["-sS", "--max-time", "5", "https://127.0.0.1:\(port)/health"])
        #expect(untrusted != 0, "without --cacert the self-signed certificate is not trusted")
        let plain = try HTTPAPIClient(base: "http://127.0.0.1:\(port)").call("GET", "/health", maxTime: 3)
        #expect(plain.status != 200, "plain HTTP is not served on the TLS port")
        let settings = try DeployFiles.run("/usr/bin/curl", ["-sS", "--max-time", "5", "--cacert", cert, "https://127.0.0.1:\(port)/api/settings"]).1
        #expect(settings.contains("\"tls\":true"), "\(settings)")
        #expect(daemon.process.stop() == 0)
    }

    enum BadTLS: String, CaseIterable, Sendable {
        case missing, garbage, mismatched
    }

    @Test("a bad http.tls file stops the daemon at start with exit 78 (EX_CONFIG) and a message naming the file and the problem", arguments: BadTLS.allCases)
    func badCertificate(_ bad: BadTLS) async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-badtls")
        var (cert, key) = try Self.selfSigned(in: dir)
        let other = try TemporaryDirectory(prefix: "hpm-badtls2")
        let wanted: String
        switch bad {
        case .missing:
            cert = dir.file("absent.crt")
            wanted = "http.tls.cert_file \(cert): no such file"
        case .garbage:
            try dir.write("garbage.crt", "this is not a certificate\n")
            cert = dir.file("garbage.crt")
            wanted = "http.tls.cert_file \(cert): "
        case .mismatched:
            key = try Self.selfSigned(in: other).key
            wanted = "does not match the certificate in \(cert)"
        }
        let port = try freeLoopbackPort()
        let harness = try DaemonHarness(devices: [.init(id: "a", port: 1)], interval: 0.5, extraSections: """
        http:
          listen: 127.0.0.1:\(port)
          tls: {cert_file: \(cert), key_file: \(key)}
        """)
        let daemon = try harness.start()
        let status = daemon.process.waitForExit(timeout: 15)
        #expect(status == 78, "exit \(status.map(String.init) ?? "none (still running)"):\n\(daemon.log.suffix(2000))")
        #expect(daemon.log.contains(wanted), "wanted \"\(wanted)\" in:\n\(daemon.log.suffix(2000))")
    }
}
