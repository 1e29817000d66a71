import HPCore
import ModbusKit

/// The link's connection as seen by a job running on the link's strand.
///
/// Reconnects lazily and applies the watchdog: after a timeout pending bytes are flushed. A TCP
/// connection is closed (and the next request reconnects) when it stops answering altogether:
/// `timeoutsBeforeReconnect` timeouts in a row without any answer, from the only unit on the link
/// or from different units behind one gateway — one dead unit behind a gateway does not drop the
/// connection its healthy neighbours use. Connection errors close it at once. Serial lines are
/// never closed for timeouts: silence on a bus says nothing about the port.
///
/// `@unchecked Sendable`: a session is confined to its link's strand; it is only captured by jobs
/// enqueued there, and a strand runs one job at a time, so no two threads use it concurrently.
public final class LinkSession: @unchecked Sendable {
    public static let timeoutsBeforeReconnect = 2

    private let transport: ModbusClient.Transport
    private var client: ModbusClient?
    private var timeoutUnits: [Int] = []
    private var unitsSeen: Set<Int> = []
    private var currentUnit = 0
    private var suspect = false
    public private(set) var connectCount = 0

    init(transport: ModbusClient.Transport) {
        self.transport = transport
    }

    public var isConnected: Bool { client?.isConnected ?? false }

    /// Connects if needed and addresses `unit` with `timeout` seconds per response.
    public func prepare(unit: Int, timeout: Double) throws {
        if client == nil { client = try ModbusClient(transport) }
        guard let client else { return }
        if !client.isConnected {
            client.setResponseTimeout(seconds: timeout)
            try client.connect()
            connectCount += 1
            suspect = false
        }
        client.setResponseTimeout(seconds: timeout)
        try client.setUnit(unit)
        currentUnit = unit
        unitsSeen.insert(unit)
        if suspect {
            client.flush()
            suspect = false
        }
    }

    public func readRegisters(input: Bool, address: Int, count: Int, into words: inout [UInt16]) throws {
        guard let client else { throw ModbusError(operation: "read", code: 107, message: "not connected") }
        try observe { try client.readRegisters(input: input, address: address, count: count, into: &words) }
    }

    public func readBits(discrete: Bool, address: Int, count: Int) throws -> [Bool] {
        guard let client else { throw ModbusError(operation: "read", code: 107, message: "not connected") }
        return try observe { try client.readBits(discrete: discrete, address: address, count: count) }
    }

    public func writeRegisters(address: Int, words: [UInt16], forceMultiple: Bool) throws {
        guard let client else { throw ModbusError(operation: "write", code: 107, message: "not connected") }
        try observe { try client.writeRegisters(address: address, words: words, forceMultiple: forceMultiple) }
    }

    public func writeBit(address: Int, value: Bool) throws {
        guard let client else { throw ModbusError(operation: "write", code: 107, message: "not connected") }
        try observe { try client.writeBit(address: address, value: value) }
    }

    public func close() {
        client?.close()
        timeoutUnits.removeAll()
    }

    /// Whether the timeouts in a row mean the connection itself is dead.
    private var linkLooksDead: Bool {
        guard !transport.isSerial, timeoutUnits.count >= Self.timeoutsBeforeReconnect else { return false }
        return unitsSeen.count <= 1 || Set(timeoutUnits).count >= 2
    }

    private func observe<T>(_ call: () throws -> T) throws -> T {
        do {
            let result = try call()
            timeoutUnits.removeAll()
            return result
        } catch let error as ModbusError {
            if error.deviceAnswered {
                timeoutUnits.removeAll()
            } else if error.isTimeout {
                timeoutUnits.append(currentUnit)
                suspect = true
                if linkLooksDead { close() }
            } else {
                // Connection lost or garbled frame: start clean.
                close()
            }
            throw error
        }
    }
}
