import CurlKit
import Foundation
import Testing
import TestSupport

/// The local receivers the notification tests start and stop: Python's http.server webhook,
/// aiosmtpd (from PyPI, in .venv-smtp, made by `make test`) and Debian's prometheus-alertmanager.
enum NotifyReceivers {
    static let python = DeployFiles.path(".venv-smtp/bin/python3")
    static let alertmanager = "/usr/bin/prometheus-alertmanager"

    /// A webhook answering 503 `fails` times, then 200; accepted bodies land in `out` (JSON lines).
    static func webhook(port: Int, fails: Int, out: String) throws -> ManagedProcess {
        let p = try ManagedProcess(executable: "/usr/bin/python3", arguments: [DeployFiles.path("Tests/Fixtures/notify/webhook_receiver.py"), "\(port)", "\(fails)", out])
        try #require(p.stdout.nextLine(timeout: 20) == "ready", "webhook receiver did not start: \(p.stderr.transcript.joined(separator: "\n"))")
        return p
    }

    /// Accepted webhook bodies so far.
    static func received(_ out: String) -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: out, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// aiosmtpd; with `tls` it requires STARTTLS and AUTH (user/password) first.
    static func smtp(port: Int, outdir: String, tls: (cert: String, key: String, user: String, password: String)?) throws -> ManagedProcess {
        try #require(FileManager.default.isExecutableFile(atPath: python), "aiosmtpd is missing: run `make .venv-smtp/bin/aiosmtpd` (make test does)")
        var args = [DeployFiles.path("Tests/Fixtures/notify/smtp_sink.py"), "\(port)", outdir]
        if let tls { args += [tls.cert, tls.key, tls.user, tls.password] }
        let p = try ManagedProcess(executable: python, arguments: args)
        try #require(p.stdout.nextLine(timeout: 15) == "ready", "aiosmtpd did not start: \(p.stderr.transcript.joined(separator: "\n"))")
        return p
    }

    /// A self-signed certificate for 127.0.0.1 made by openssl.
    static func selfSigned(in dir: TemporaryDirectory) throws -> (cert: String, key: String) {
        let cert = dir.file("cert.pem"), key = dir.file("key.pem")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                       "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "openssl req failed")
        return (cert, key)
    }

    /// Alertmanager on a free loopback port, its storage in `dir`, clustering off.
    static func startAlertmanager(port: Int, dir: TemporaryDirectory) async throws -> ManagedProcess {
        try #require(FileManager.default.isExecutableFile(atPath: alertmanager), "prometheus-alertmanager is missing: run `make deps`")
        try dir.write("alertmanager.yml", "route:\n  receiver: none\nreceivers:\n  - name: none\n")
        let p = try ManagedProcess(executable: alertmanager, arguments: [
            "--config.file=\(dir.file("alertmanager.yml"))", "--storage.path=\(dir.file("am-data"))",
            "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=",
        ])
        _ = try await eventually("alertmanager ready", timeout: 20, interval: 0.1) { () -> Bool? in
            (try? get("http://127.0.0.1:\(port)/-/ready"))?.0 == 200 ? true : nil
        }
        return p
    }

    /// A GET (status, body).
    static func get(_ url: String) throws -> (Int, String) {
        let response = try CurlHTTPClient(options: .init(timeout: 5)).get(url: url)
        return (response.status, response.body)
    }
}
