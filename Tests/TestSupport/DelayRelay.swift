import Foundation

/// TCP relays that add a fixed one-way delay to every byte, in both directions: a WAN's latency
/// for a test's network namespaces (the kernel has no netem). Each route listens on an address of
/// the caller's choice (port chosen by the kernel) and forwards to a port on 127.0.0.1. Order
/// within a connection is kept (it is TCP), and a connection's end is passed on after the delay.
///
/// Written in Python (asyncio, standard library only) because it is a test peer, not product code:
/// one small event loop serves every route and connection.
public final class DelayRelay: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init.
    public struct Route: Sendable {
        public let listenHost: String
        public let targetPort: Int
        public init(listenHost: String, targetPort: Int) {
            self.listenHost = listenHost
            self.targetPort = targetPort
        }
    }

    /// The listening port of each route, in order.
    public let ports: [Int]
    private let process: ManagedProcess
    private let directory: TemporaryDirectory

    static let script = #"""
    import asyncio, json, sys

    delay = float(sys.argv[1])
    routes = [(r.rsplit(":", 1)[0], int(r.rsplit(":", 1)[1])) for r in sys.argv[2:]]

    async def pump(reader, writer):
        loop = asyncio.get_running_loop()
        queue = asyncio.Queue()

        async def feed():
            while True:
                data = await reader.read(65536)
                await queue.put((loop.time() + delay, data))
                if not data:
                    return

        async def drain():
            try:
                while True:
                    due, data = await queue.get()
                    wait = due - loop.time()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    if not data:
                        if writer.can_write_eof():
                            writer.write_eof()
                        return
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                return

        feeder = asyncio.ensure_future(feed())
        try:
            await drain()
        except Exception:
            pass
        try:
            await feeder
        except Exception:
            pass

    def handler(target):
        async def handle(reader, writer):
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
            except OSError:
                writer.close()
                return
            try:
                await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer), return_exceptions=True)
            finally:
                for w in (writer, up_writer):
                    try:
                        w.close()
                    except Exception:
                        pass
        return handle

    async def main():
        servers = []
        for host, target in routes:
            servers.append(await asyncio.start_server(handler(target), host, 0))
        print(json.dumps({"ports": [s.sockets[0].getsockname()[1] for s in servers]}), flush=True)
        # Exits when the test closes stdin (or dies).
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

    asyncio.run(main())
    """#

    /// - Parameter delay: seconds added to each direction.
    public init(delay: Double, routes: [Route]) throws {
        directory = try TemporaryDirectory(prefix: "hpm-relay")
        try directory.write("relay.py", Self.script)
        process = try ManagedProcess(executable: "/usr/bin/python3",
                                     arguments: ["-u", directory.file("relay.py"), "\(delay)"] + routes.map { "\($0.listenHost):\($0.targetPort)" })
        guard let line = process.stdout.nextLine(timeout: 10),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let ports = object["ports"] as? [Int], ports.count == routes.count else {
            throw NetworkLab.CommandFailed(description: "relay did not start: \(process.stderr.transcript.suffix(5).joined(separator: " | "))")
        }
        self.ports = ports
    }

    deinit { process.stop() }
}
