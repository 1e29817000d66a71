import ControlProtocol
import Foundation
import HPCore
import NIOCore
import Supervisor
import Synchronization

/// The latest values of every device and the Server-Sent Events stream of polls and state changes.
/// It is one more telemetry sink: `publish` only takes a lock and yields to bounded per-client
/// buffers (oldest events dropped for a client that does not keep up), so no HTTP client can ever
/// delay a poll.
public final class LiveFeed: TelemetrySink {
    struct Latest: Sendable {
        var timestamp: Double
        var values: [String: RegisterReading.Value]
    }

    struct State: Sendable {
        var latest: [String: Latest] = [:]
        var states: [String: String] = [:]
        var subscribers: [Int: AsyncStream<ByteBuffer>.Continuation] = [:]
        var nextID = 0
        var closed = false
    }

    /// Events buffered per client before the oldest are dropped.
    public static let clientBuffer = 256
    public let maxClients: Int
    private let state = Mutex(State())

    public init(maxClients: Int = 32) {
        self.maxClients = maxClients
    }

    // MARK: TelemetrySink

    public func publish(_ report: PollReport) {
        var values: [String: RegisterReading.Value] = [:]
        for sample in report.samples {
            values[sample.name] = if case .string(let text) = sample.value { .text(text) } else { .number(sample.value.doubleValue) }
        }
        let id = report.device.id
        let poll = PollEvent(id: id, timestamp: report.timestamp, state: report.status.state.rawValue, up: report.status.up, values: values)
        let stateChanged = state.withLock { s -> Bool in
            if !values.isEmpty { s.latest[id] = Latest(timestamp: report.timestamp, values: values) }
            defer { s.states[id] = poll.state }
            return s.states[id] != poll.state
        }
        if stateChanged { broadcast("state", StateEvent(id: id, state: poll.state, up: poll.up, lastError: report.status.lastError)) }
        broadcast("poll", poll)
    }

    public func deviceStatusChanged(_ device: DeviceLabels, _ status: DeviceStatus) {
        let changed = state.withLock { s -> Bool in
            defer { s.states[device.id] = status.state.rawValue }
            return s.states[device.id] != status.state.rawValue
        }
        if changed { broadcast("state", StateEvent(id: device.id, state: status.state.rawValue, up: status.up, lastError: status.lastError)) }
    }

    public func deviceRemoved(_ id: String) {
        state.withLock { s in
            s.latest[id] = nil
            s.states[id] = nil
        }
        broadcast("state", StateEvent(id: id, state: "removed", up: false, lastError: nil))
    }

    // MARK: Readers

    /// The last values of every device that has polled: `{"<id>": {"<register>": value}}`.
    public func allValues() -> [String: [String: RegisterReading.Value]] {
        state.withLock { $0.latest.mapValues(\.values) }
    }

    public func values(of id: String) -> (timestamp: Double, values: [String: RegisterReading.Value])? {
        state.withLock { s in s.latest[id].map { ($0.timestamp, $0.values) } }
    }

    /// A new SSE client's stream, or nil when `maxClients` are already connected or the feed is closed.
    public func subscribe() -> AsyncStream<ByteBuffer>? {
        let (stream, continuation) = AsyncStream.makeStream(of: ByteBuffer.self, bufferingPolicy: .bufferingNewest(Self.clientBuffer))
        let id = state.withLock { s -> Int? in
            guard !s.closed, s.subscribers.count < maxClients else { return nil }
            s.nextID += 1
            s.subscribers[s.nextID] = continuation
            return s.nextID
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        // Tells the client it is connected (and flushes the headers) before the first poll.
        continuation.yield(ByteBuffer(string: ": connected\nretry: 3000\n\n"))
        return stream
    }

    public var clients: Int { state.withLock { $0.subscribers.count } }

    /// Ends every stream (graceful shutdown: an open SSE response must not hold the server up).
    public func close() {
        let subscribers = state.withLock { s -> [AsyncStream<ByteBuffer>.Continuation] in
            s.closed = true
            defer { s.subscribers = [:] }
            return Array(s.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    private func broadcast<T: Encodable>(_ event: String, _ payload: T) {
        let subscribers = state.withLock { Array($0.subscribers.values) }
        guard !subscribers.isEmpty, let data = try? APIJSON.encoder.encode(payload) else { return }
        var buffer = ByteBuffer(string: "event: \(event)\ndata: ")
        buffer.writeBytes(data)
        buffer.writeString("\n\n")
        for subscriber in subscribers { subscriber.yield(buffer) }
    }
}

/// `event: poll` — one poll's values.
struct PollEvent: Encodable, Sendable {
    var id: String
    var timestamp: Double
    var state: String
    var up: Bool
    var values: [String: RegisterReading.Value]
}

/// `event: state` — a device's state changed.
struct StateEvent: Encodable, Sendable {
    var id: String
    var state: String
    var up: Bool
    var lastError: String?

    enum CodingKeys: String, CodingKey {
        case id, state, up
        case lastError = "last_error"
    }
}
