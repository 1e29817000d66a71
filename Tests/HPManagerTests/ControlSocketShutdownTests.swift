import Foundation
import NIOCore
import NIOPosix
import SQLiteKit
@testable import Supervisor
import Synchronization
import Testing
import TestSupport

/// Graceful shutdown with control-socket clients connected: an idle client is disconnected at once
/// (it must not hold the service group until its idle timeout, past shutdown_timeout, which would
/// cancel every service), and a request in flight still gets its answer before the connection closes.
@Suite("Control socket on shutdown", .harnessThreads, .serialized)
struct ControlSocketShutdownTests {
    /// True once the peer closed `client` (EOF) within `timeout` seconds; data read meanwhile is dropped.
    static func closedByPeer(_ client: UnixSocketClient, within timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return false }
            var p = pollfd(fd: client.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(remaining * 1000)) > 0 else { return false }
            let n = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return true }
        }
    }

    @Test("SIGTERM with an idle hpmanagerctl-style client connected: exit 0 well within shutdown_timeout, the client is disconnected, the Influx inbox is spooled")
    func idleClientDoesNotStallShutdown() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let dir = try TemporaryDirectory(prefix: "hpm-idle-client")
        let server = try RecordingHTTPServer(status: 204, directory: dir)
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.2, reuse: dir)
        // idle_timeout 30 s > shutdown_timeout 2 s; batch_interval 60 keeps every point in the inbox.
        try dir.write("collector.yml", harness.files.collectorYAML(metricsInterval: 0.2, socketIdleTimeout: 30, extra: """
        collector:
          poll_interval: 0.2
          batch_interval: 60
          shutdown_timeout: 2
        logging:
          level: DEBUG
          format: text
        influxdb:
          url: http://127.0.0.1:\(server.port)
          org: o
          bucket: b
          spool_path: \(dir.file("spool.db"))
        """))
        let daemon = try harness.start()
        let m = try await DaemonHarness.waitFor(daemon, "a few polls") { InfluxTests.successfulPolls($0, "a") >= 3 }
        let client = try UnixSocketClient(path: harness.socketPath)
        client.send(#"{"cmd":"status"}"# + "\n")
        let answer = try #require(client.readLine(timeout: 5), "the client is connected and served")
        #expect(answer.contains("\"ok\":true"), "\(answer)")
        let polls = InfluxTests.successfulPolls(m, "a")

        let start = Date()
        daemon.process.signal(SIGTERM)
        let status = daemon.process.waitForExit(timeout: 10)
        let took = Date().timeIntervalSince(start)
        #expect(status == 0 && took < 1.5, "exited with \(String(describing: status)) after \(took) s:\n\(daemon.log.suffix(3000))")
        #expect(Self.closedByPeer(client, within: 1), "the idle client was disconnected")
        let spool = try SQLiteDatabase(path: dir.file("spool.db"))
        let spooled = Int(try spool.query("SELECT COALESCE(SUM(points), 0) FROM spool").first?[0].int ?? -1)
        #expect(spooled >= polls && polls > 0, "the Influx sink had its graceful turn: \(spooled) spooled, \(polls) polls seen before SIGTERM")
        #expect(server.requests().isEmpty)
    }

    /// Keeps every request unanswered until the test answers it.
    final class HeldRequests: Sendable {
        private let contexts = Mutex<[NIOLoopBound<ChannelHandlerContext>]>([])
        var count: Int { contexts.withLock { $0.count } }
        func hold(_ context: ChannelHandlerContext) { contexts.withLock { $0.append(NIOLoopBound(context, eventLoop: context.eventLoop)) } }
        func answerFirst(_ text: String) {
            guard let bound = contexts.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { return }
            bound.eventLoop.execute { bound.value.writeAndFlush(NIOAny(ByteBuffer(string: text + "\n")), promise: nil) }
        }
    }

    final class HoldingResponder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let held: HeldRequests
        init(_ held: HeldRequests) { self.held = held }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { held.hold(context) }
    }

    @Test("draining: an idle connection and one accepted later close at once; one with a request in flight gets its answer, then closes")
    func drainLetsRequestsInFlightFinish() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-drain")
        let path = dir.file("drain.sock")
        let connections = ControlConnections()
        let held = HeldRequests()
        let server = try await ServerBootstrap(group: Fixtures.loops)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: 1024)))
                    try sync.addHandler(CloseWhenIdleHandler(timeout: .seconds(30)))
                    try sync.addHandler(HoldingResponder(held))
                    connections.register(channel)
                }
            }
            .bind(unixDomainSocketPath: path).get()
        defer { server.close(promise: nil) }
        let busy = try UnixSocketClient(path: path)
        let idle = try UnixSocketClient(path: path)
        busy.send("request\n")
        _ = try await eventually("the request held by the server", timeout: 5) { held.count == 1 ? true : nil }
        _ = try await eventually("both connections registered", timeout: 5) { connections.count == 2 ? true : nil }

        connections.drain()
        #expect(Self.closedByPeer(idle, within: 2), "an idle connection closes when draining starts")
        let late = try UnixSocketClient(path: path)
        #expect(Self.closedByPeer(late, within: 2), "a connection accepted while draining closes too")
        #expect(!Self.closedByPeer(busy, within: 0.3), "a connection with a request in flight stays open")
        held.answerFirst("answer")
        #expect(busy.readLine(timeout: 5) == "answer")
        #expect(Self.closedByPeer(busy, within: 2), "and closes right after its answer")
    }
}
