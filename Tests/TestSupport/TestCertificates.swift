import Foundation

/// A throw-away PKI made with `openssl` in a temporary directory: a CA, a server certificate it
/// signed for 127.0.0.1 / localhost, a client certificate it signed, and a second, unrelated CA
/// (the "wrong CA" a misconfigured site might point at).
public final class TestCertificates: @unchecked Sendable {
    // `@unchecked Sendable`: only immutable paths are stored.
    public let directory: TemporaryDirectory
    public var caFile: String { directory.file("ca.pem") }
    public var serverCert: String { directory.file("server.pem") }
    public var serverKey: String { directory.file("server.key") }
    public var clientCert: String { directory.file("client.pem") }
    public var clientKey: String { directory.file("client.key") }
    /// A CA that signed nothing here: verifying the server against it must fail.
    public var otherCAFile: String { directory.file("other-ca.pem") }

    public init() throws {
        directory = try TemporaryDirectory(prefix: "hpm-pki")
        try makeCA("ca", subject: "/CN=hpmanager test CA")
        try makeCA("other-ca", subject: "/CN=unrelated CA")
        try directory.write("server.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try directory.write("client.ext", "extendedKeyUsage=clientAuth\n")
        try makeLeaf("server", subject: "/CN=127.0.0.1", extensions: "server.ext")
        try makeLeaf("client", subject: "/CN=hpmanager-site", extensions: "client.ext")
        // mosquitto started as root drops to its own user before it reads the key (openssl writes keys 0600).
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: serverKey)
    }

    private func makeCA(_ name: String, subject: String) throws {
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", subject,
                     "-keyout", directory.file("\(name).key"), "-out", directory.file("\(name).pem")])
    }

    private func makeLeaf(_ name: String, subject: String, extensions: String) throws {
        try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", subject,
                     "-keyout", directory.file("\(name).key"), "-out", directory.file("\(name).csr")])
        try openssl(["x509", "-req", "-sha256", "-days", "2", "-in", directory.file("\(name).csr"),
                     "-CA", caFile, "-CAkey", directory.file("ca.key"), "-CAcreateserial",
                     "-extfile", directory.file(extensions), "-out", directory.file("\(name).pem")])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let detail = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLFailed(arguments: arguments, output: String(decoding: detail, as: UTF8.self))
        }
    }

    public struct OpenSSLFailed: Error, CustomStringConvertible {
        public var arguments: [String]
        public var output: String
        public var description: String { "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(output)" }
    }
}
