import Foundation
import HPCore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Sinks
import Supervisor

/// The HTTP API as one ServiceGroup service. It runs on an event loop of its own, so a slow or
/// garbage client costs the Modbus links' loops nothing; on graceful shutdown open event streams
/// are ended first and the server then stops accepting and drains.
public struct HTTPService: Service {
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    private let settings: HTTPSettings
    private let feed: LiveFeed
    private let routes: APIRoutes
    private let logger: Logger
    private let tls: TLSConfiguration?

    /// Loads the TLS files now, so a bad certificate fails start-up with a message instead of the first handshake.
    public init(settings: HTTPSettings, operations: FleetOperations, feed: LiveFeed, metrics: MetricsFileSink?, logger: Logger) throws {
        self.settings = settings
        self.feed = feed
        self.logger = logger
        routes = APIRoutes(operations: operations, feed: feed, metrics: metrics, settings: settings, logger: logger)
        if settings.tls {
            tls = try Self.loadTLS(certFile: settings.certFile, keyFile: settings.keyFile)
        } else {
            tls = nil
        }
    }

    /// The server TLS configuration from PEM files; each failure names the file and what was wrong with it.
    static func loadTLS(certFile: String, keyFile: String) throws -> TLSConfiguration {
        func readable(_ path: String, _ key: String) throws {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw StartError(description: "http.tls.\(key) \(path): \(FileManager.default.fileExists(atPath: path) ? "not readable by this user" : "no such file")")
            }
        }
        try readable(certFile, "cert_file")
        try readable(keyFile, "key_file")
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certFile)
        } catch {
            throw StartError(description: "http.tls.cert_file \(certFile): not a PEM certificate (\(error))")
        }
        guard !chain.isEmpty else { throw StartError(description: "http.tls.cert_file \(certFile): no PEM certificate in the file") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw StartError(description: "http.tls.key_file \(keyFile): not an unencrypted PEM private key (\(error))")
        }
        let configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        do {
            // Building the context now checks that the key belongs to the certificate.
            _ = try NIOSSLContext(configuration: configuration)
        } catch {
            throw StartError(description: "http.tls: the key in \(keyFile) does not match the certificate in \(certFile) (\(error))")
        }
        return configuration
    }

    public func run() async throws {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: TokenAuthMiddleware(tokens: settings.tokens))
        routes.register(on: router)
        ConsoleRoutes(operations: routes.operations, settings: settings).register(on: router)
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .milliseconds(Int64(settings.idleTimeout * 1000))))
        let server = try tls.map { try HTTPServerBuilder.tls(http1, tlsConfiguration: $0) } ?? http1
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let configuration = ApplicationConfiguration(
            address: .hostname(settings.host, port: settings.port), serverName: "hpmanagerd",
            availableConnectionsDelegate: MaximumAvailableConnections(settings.maxConnections))
        let feed = self.feed, logger = self.logger, settings = self.settings
        let app = Application(router: router, server: server, configuration: configuration,
                              onServerRunning: { channel in
                                  logger.info("HTTP API listening", metadata: [
                                      "address": "\(channel.localAddress?.description ?? "?")", "tls": "\(settings.tls)",
                                      "auth": "\(settings.tokens.isEmpty ? "loopback only" : "\(settings.tokens.count) tokens")",
                                  ])
                              },
                              eventLoopGroupProvider: .shared(group), logger: logger)
        try await withGracefulShutdownHandler {
            try await app.run()
        } onGracefulShutdown: {
            feed.close()
        }
        try await group.shutdownGracefully()
    }
}
