import BlockingIO
import HPCore
import ModbusKit
import Synchronization

/// One Modbus connection (TCP gateway or serial bus) shared by every device behind it.
///
/// All libmodbus calls run as jobs on the link's `IOStrand`, never on the cooperative pool; jobs of
/// devices sharing the link are serialised, different links run in parallel.
///
/// `@unchecked Sendable`: `session` is only touched inside jobs of `strand`, which never overlap.
public final class ModbusLink: @unchecked Sendable {
    public let endpoint: LinkEndpoint
    private let strand: IOStrand
    private let session: LinkSession
    private let load = Mutex(LinkLoad())

    public init(endpoint: LinkEndpoint, pool: IOThreadPool) {
        self.endpoint = endpoint
        strand = IOStrand(pool: pool)
        let transport: ModbusClient.Transport = switch endpoint {
        case .tcp(let host, let port): .tcp(host: host, port: port)
        case .rtu(let s): .rtu(device: s.device, baudrate: s.baudrate, parity: s.parity, dataBits: s.bytesize, stopBits: s.stopbits)
        }
        session = LinkSession(transport: transport)
    }

    /// Runs `body` with exclusive use of the connection, on the link's I/O strand.
    /// `priority` jobs (operator reads and writes) go ahead of queued polls.
    public func perform<T: Sendable>(priority: Bool = false, _ body: @escaping @Sendable (LinkSession) throws -> T) async throws -> T {
        let session = self.session
        return try await strand.run(priority: priority) { try body(session) }
    }

    /// Records a device's bus time and returns the link's load (shared by every device on it).
    public func recordPoll(device: String, busTime: Double, interval: Double) -> LinkLoad.Report {
        load.withLock { $0.record(device: device, busTime: busTime, interval: interval) }
    }

    public func forget(device: String) {
        load.withLock { $0.forget(device: device) }
    }

    public var currentLoad: LinkLoad { load.withLock { $0 } }

    /// Closes the connection (after jobs already queued).
    public func close() {
        let session = self.session
        strand.enqueue { session.close() }
    }
}
