import Foundation
import ModbusKit
#if canImport(Glibc)
import Glibc
#endif

/// A simulated Modbus TCP endpoint (one port) serving one or more unit ids.
///
/// Each accepted connection is served by its own thread, so a slow or hung unit only stalls
/// clients of that connection. `@unchecked Sendable`: mutable state is guarded by `lock`.
final class SimGateway: @unchecked Sendable {
    let host: String
    private(set) var port: Int
    let units: [Int: SimUnit]
    private let lock = NSLock()
    private var listener: ModbusListener?
    private var connections: Set<Int32> = []
    private var accepted = 0
    private var requestsByFunction: [Int: Int] = [:]
    private var unknownUnitRequests = 0

    init(host: String, port: Int, units: [Int: SimUnit]) {
        self.host = host
        self.port = port
        self.units = units
    }

    var isUp: Bool { lock.withLock { listener != nil } }

    /// Starts listening (again). With port 0 the first start picks a free port and keeps it.
    func start() throws {
        try lock.withLock {
            guard listener == nil else { return }
            let created = try ModbusListener(host: host, port: port)
            port = created.port
            listener = created
            Thread.detachNewThread { [self] in acceptLoop(created) }
        }
    }

    /// Simulates a crashed device: stops listening (connections are refused) and drops every client.
    func stop() {
        lock.withLock {
            listener?.shutdown()
            listener = nil
            for fd in connections { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    private func acceptLoop(_ listener: ModbusListener) {
        while let fd = try? listener.accept() {
            let admitted = lock.withLock { () -> Bool in
                guard self.listener === listener else { return false }
                accepted += 1
                connections.insert(fd)
                return true
            }
            guard admitted else { Glibc.close(fd); continue }
            Thread.detachNewThread { [self] in serve(fd) }
        }
    }

    private func serve(_ fd: Int32) {
        defer { lock.withLock { _ = connections.remove(fd) } }
        guard let session = try? ModbusServerSession(tcpSocket: fd) else { Glibc.close(fd); return }
        while true {
            guard let frame = try? session.receiveTCP(), frame.count >= 8 else { return }
            let start = frame.startIndex
            let unitID = Int(frame[start + 6])
            guard let request = SimRequest(unit: unitID, bytes: frame, pduStart: start + 7) else { continue }
            lock.withLock { requestsByFunction[request.function, default: 0] += 1 }
            do {
                let outcome = try SimResponder.handle(request, frame: frame, unit: units[unitID], session: session)
                if outcome == .noSuchUnit {
                    lock.withLock { unknownUnitRequests += 1 }
                    try session.replyException(frame, code: 11)  // gateway target device failed to respond
                }
            } catch {
                return
            }
        }
    }

    func stats() -> [String: Any] {
        lock.withLock {
            [
                "up": listener != nil,
                "connections_accepted": accepted,
                "connections_open": connections.count,
                "requests": Dictionary(uniqueKeysWithValues: requestsByFunction.map { (String($0.key), $0.value) }),
                "requests_total": requestsByFunction.values.reduce(0, +),
                "unknown_unit_requests": unknownUnitRequests,
                "units": Dictionary(uniqueKeysWithValues: units.map { (String($0.key), $0.value.stats()) }),
            ]
        }
    }
}
