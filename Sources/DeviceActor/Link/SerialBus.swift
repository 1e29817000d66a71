import BlockingIO
import HPCore
import ModbusKit
import Synchronization

/// A Modbus RTU bus: libmodbus on a dedicated thread of its own. A serial line carries one frame at a
/// time and its waits are bus time nobody else could use, so a blocked thread costs only this bus.
final class SerialBus: Sendable {
    private let thread: IOThreadPool
    private let strand: IOStrand
    private let session: SerialSession

    init(_ serial: SerialSettings) {
        thread = IOThreadPool(maxThreads: 1, name: "hpm-rtu")
        strand = IOStrand(pool: thread)
        session = SerialSession(.rtu(device: serial.device, baudrate: serial.baudrate, parity: serial.parity,
                                     dataBits: serial.bytesize, stopBits: serial.stopbits))
    }

    /// Runs one request on the bus thread; returns the reply and the bus time it took.
    func perform(_ request: ModbusRequest, unit: Int, timeout: Double, priority: Bool) async throws -> ModbusLink.Response {
        let session = self.session
        return try await strand.run(priority: priority) {
            let started = ContinuousClock.now
            let reply = try session.perform(request, unit: unit, timeout: timeout)
            return ModbusLink.Response(reply: reply, busTime: (ContinuousClock.now - started) / .seconds(1))
        }
    }

    /// Runs a batch request by request (each its own job, so priority requests can go in between);
    /// stops at the first failure, like the TCP link.
    func perform(_ requests: ArraySlice<ModbusRequest>, unit: Int, timeout: Double, priority: Bool) async throws -> ModbusLink.Batch {
        var responses: [ModbusLink.Response] = []
        responses.reserveCapacity(requests.count)
        for request in requests {
            do {
                responses.append(try await perform(request, unit: unit, timeout: timeout, priority: priority))
            } catch let error as ModbusError {
                return ModbusLink.Batch(responses: responses, failure: error)
            }
        }
        return ModbusLink.Batch(responses: responses, failure: nil)
    }

    func close() {
        let session = self.session
        strand.enqueue { session.close() }
        thread.shutdown()
    }
}

/// The libmodbus context of a serial bus. Serial lines are never closed for timeouts (silence on a bus
/// says nothing about the port); after a timeout, late bytes are flushed before the next request.
///
/// `@unchecked Sendable`: only touched by jobs of its bus' strand, which run one at a time on one thread.
final class SerialSession: @unchecked Sendable {
    private let transport: ModbusClient.Transport
    private var client: ModbusClient?
    private var suspect = false

    init(_ transport: ModbusClient.Transport) {
        self.transport = transport
    }

    func perform(_ request: ModbusRequest, unit: Int, timeout: Double) throws -> ModbusReply {
        if client == nil { client = try ModbusClient(transport) }
        guard let client else { throw ModbusError(operation: "connect", code: 107, message: "not connected") }
        client.setResponseTimeout(seconds: timeout)
        if !client.isConnected { try client.connect() }
        try client.setUnit(unit)
        if suspect {
            client.flush()
            suspect = false
        }
        do {
            return try client.perform(request)
        } catch {
            if error.isTimeout { suspect = true } else if !error.deviceAnswered && !error.isProtocolViolation { client.close() }
            throw error
        }
    }

    func close() {
        client?.close()
    }
}
