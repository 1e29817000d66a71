import CModbus
#if canImport(Glibc)
import Glibc
#endif

/// A listening Modbus TCP socket (libmodbus `modbus_tcp_listen`); port 0 picks a free port.
///
/// `@unchecked Sendable`: all stored properties are immutable after init, and `accept`/`shutdown`
/// are plain thread-safe syscalls on the socket (shutdown from one thread wakes an accept in another).
public final class ModbusListener: @unchecked Sendable {
    private let context: OpaquePointer
    public let socket: Int32
    public let port: Int

    public init(host: String = "127.0.0.1", port: Int, backlog: Int = 128) throws {
        guard let created = modbus_new_tcp(host, Int32(port)) else { throw ModbusError.last("modbus_new_tcp") }
        context = created
        let fd = modbus_tcp_listen(context, Int32(backlog))
        guard fd >= 0 else {
            let error = ModbusError.last("modbus_tcp_listen(\(host):\(port))")
            modbus_free(context)
            throw error
        }
        socket = fd
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = ok == 0 ? Int(UInt16(bigEndian: address.sin_port)) : port
    }

    deinit {
        Glibc.close(socket)
        modbus_free(context)
    }

    /// Blocks until a client connects; returns its socket.
    public func accept() throws -> Int32 {
        let fd = Glibc.accept(socket, nil, nil)
        guard fd >= 0 else { throw ModbusError.last("accept") }
        return fd
    }

    /// Unblocks a thread waiting in `accept` (used when a simulated device goes down).
    public func shutdown() {
        _ = Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }
}
