import Foundation
import HPCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import ControlProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The Unix control socket: newline-delimited JSON, one request → one response, on SwiftNIO.
///
/// Bounded: request size, idle time and concurrent clients are limited; garbage gets an error reply
/// or a closed connection, never a crash. Requests are answered from status snapshots; only
/// read/write/test wait on Modbus I/O (on the devices' links, never on the event loop).
public final class ControlServer: Service {
    public struct Limits: Sendable {
        public var maxRequestBytes = 64 * 1024
        public var idleTimeout: TimeAmount = .seconds(30)
        public var maxClients = 128

        public init() {}
    }

    public struct StartError: Error, CustomStringConvertible {
        public enum Kind: Sendable {
            /// A configuration problem: the path holds something that is not a socket (file, directory, symlink), or an unknown group.
            case configuration
            /// Another daemon answers on the path.
            case inUse
            /// The path could not be checked or prepared (permissions, I/O).
            case cannotPrepare
        }
        public let kind: Kind
        public let description: String

        public init(_ kind: Kind = .cannotPrepare, _ description: String) {
            self.kind = kind
            self.description = description
        }
    }

    public let settings: ControlSocketSettings
    public let limits: Limits
    private let commands: ControlCommands
    private let logger: Logger
    private let clients = Mutex(0)

    public init(settings: ControlSocketSettings, limits: Limits = Limits(), commands: ControlCommands, logger: Logger) {
        self.settings = settings
        self.limits = limits
        self.commands = commands
        self.logger = logger
    }

    /// Creates the parent directory (0750) and removes a stale socket, and nothing else.
    ///
    /// Only a socket nobody listens on (connect fails with ECONNREFUSED) is removed. A regular file,
    /// directory or symlink at the path is refused (it is a configuration mistake, or a planted link
    /// that would make a root daemon unlink or chmod someone else's file); a live socket means another
    /// daemon owns the path.
    public static func prepare(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            } catch {
                throw StartError(.cannotPrepare, "cannot create the control socket directory \(directory): \(error.localizedDescription)")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else {
            let code = errno
            if code == ENOENT { return }
            throw StartError(.cannotPrepare, "cannot inspect control_socket.path \(path): \(String(cString: strerror(code)))")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFSOCK else {
            let found = type == S_IFLNK ? "a symbolic link" : type == S_IFREG ? "a regular file" : type == S_IFDIR ? "a directory" : "not a socket"
            throw StartError(.configuration, "control_socket.path \(path) is \(found); refusing to replace it (remove it or choose another path)")
        }
        switch probe(path) {
        case 0, EAGAIN:
            throw StartError(.inUse, "another hpmanagerd is already listening on \(path)")
        case ECONNREFUSED:
            guard unlink(path) == 0 else {
                throw StartError(.cannotPrepare, "cannot remove stale socket \(path): \(String(cString: strerror(errno)))")
            }
        case let code:
            throw StartError(.cannotPrepare, "cannot tell whether the socket \(path) is in use: \(String(cString: strerror(code)))")
        }
    }

    /// Connects without blocking: 0 (someone listens), EAGAIN (listening, backlog full), ECONNREFUSED (stale) or another errno.
    private static func probe(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return UnixSocketAddress.connect(fd, to: path)
    }

    public func run() async throws {
        let limits = self.limits
        let connections = ControlConnections()
        let server = try await ServerBootstrap(group: NIOSingletons.posixEventLoopGroup)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // A client may send its requests and shut down its write side: answers still go out.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .bind(unixDomainSocketPath: settings.path, cleanupExistingSocketFile: false) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: limits.maxRequestBytes)))
                    // After the decoder: it counts whole requests in and answers out.
                    try sync.addHandler(CloseWhenIdleHandler(timeout: limits.idleTimeout))
                    let wrapped = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    connections.register(channel)
                    return wrapped
                }
            }
        try applyPermissions()
        logger.info("control socket listening", metadata: ["path": "\(settings.path)", "mode": "\(String(settings.mode, radix: 8))"])
        defer { unlink(settings.path) }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } onGracefulShutdown: {
            // No new clients; open ones close once their request in flight is answered (an idle
            // client must not keep the group waiting until its idle timeout, past shutdown_timeout).
            server.channel.close(promise: nil)
            connections.drain()
        }
    }

    private func applyPermissions() throws {
        guard chmod(settings.path, mode_t(settings.mode)) == 0 else {
            throw StartError(.cannotPrepare, "chmod \(settings.path): \(String(cString: strerror(errno)))")
        }
        if !settings.group.isEmpty {
            guard let gid = GroupLookup.gid(settings.group) else { throw StartError(.configuration, "control_socket.group: unknown group \(settings.group)") }
            guard chown(settings.path, uid_t.max, gid) == 0 else {
                throw StartError(.cannotPrepare, "chown \(settings.path): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let admitted = clients.withLock { count -> Bool in
            guard count < limits.maxClients else { return false }
            count += 1
            return true
        }
        defer { if admitted { clients.withLock { $0 -= 1 } } }
        try? await connection.executeThenClose { inbound, outbound in
            guard admitted else {
                try await outbound.write(Self.line(.failure("busy", "too many clients (limit \(limits.maxClients))", id: nil)))
                return
            }
            do {
                for try await frame in inbound {
                    let response = await commands.handle(Self.decode(frame))
                    try await outbound.write(Self.line(response))
                }
            } catch is LineFrameDecoder.RequestTooLarge {
                try? await outbound.write(Self.line(.failure("request_too_large", "request exceeds \(limits.maxRequestBytes) bytes", id: nil)))
            }
        }
    }

    /// A frame as a request, or the error to answer with.
    static func decode(_ frame: ByteBuffer) -> DecodedRequest {
        let bytes = frame.readableBytesView
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .reply(.failure("invalid_utf8", "request is not valid UTF-8", id: nil))
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return .reply(.failure("bad_request", "empty request", id: nil)) }
        do {
            let request = try JSONDecoder().decode(ControlRequest.self, from: Data(trimmed.utf8))
            if let v = request.v, v != controlProtocolVersion {
                return .reply(.failure("unsupported_version", "protocol version \(v) is not supported (this daemon speaks \(controlProtocolVersion))", id: request.id))
            }
            return .request(request)
        } catch {
            return .reply(.failure("bad_request", "expected one JSON object per line like {\"cmd\":\"status\"}", id: nil))
        }
    }

    static func line(_ response: ControlResponse) -> ByteBuffer {
        ByteBuffer(string: response.line() + "\n")
    }
}

/// A decoded line: a request to execute, or an error reply for a line that was not one.
enum DecodedRequest {
    case request(ControlRequest)
    case reply(ControlResponse)
}
