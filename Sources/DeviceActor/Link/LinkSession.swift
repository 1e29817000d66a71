import HPCore
import ModbusKit

/// The link's connection as seen by a job running on the link's strand.
///
/// Reconnects lazily and applies the watchdog: after a timeout pending bytes are flushed, and after
/// `timeoutsBeforeReconnect` consecutive timeouts without any answer the connection is closed so the
/// next request reconnects. Connection errors close it at once.
///
/// `@unchecked Sendable`: a session is confined to its link's strand; it is only captured by jobs
/// enqueued there, and a strand runs one job at a time, so no two threads use it concurrently.
public final class LinkSession: @unchecked Sendable {
    public static let timeoutsBeforeReconnect = 2

    private let transport: ModbusClient.Transport
    private var client: ModbusClient?
    private var consecutiveTimeouts = 0
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
        consecutiveTimeouts = 0
    }

    private func observe<T>(_ call: () throws -> T) throws -> T {
        do {
            let result = try call()
            consecutiveTimeouts = 0
            return result
        } catch let error as ModbusError {
            if error.deviceAnswered {
                consecutiveTimeouts = 0
            } else if error.isTimeout {
                consecutiveTimeouts += 1
                suspect = true
                if consecutiveTimeouts >= Self.timeoutsBeforeReconnect { close() }
            } else {
                // Connection lost or garbled frame: start clean.
                close()
            }
            throw error
        }
    }
}
