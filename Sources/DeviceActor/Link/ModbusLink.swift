import DequeModule
import HPCore
import ModbusKit
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One Modbus connection (a TCP gateway or a serial bus) shared by every device behind it.
///
/// The link is an actor whose executor is its event loop, like the device actors that use it, so a
/// device's request reaches the link without a thread hop. Over TCP nothing ever blocks a thread: the
/// connect, the response and the deadline are events on the loop (epoll underneath). Requests of all
/// devices on the link queue here and go out one at a time (many gateways handle only one transaction
/// at a time); each has one overall deadline from send to the last byte of its answer. Responses are
/// matched by transaction id and unit: late, duplicate and wrong answers are discarded and counted.
///
/// A device hands the link a whole poll at once (`transact(batch:)`): the link sends each next request
/// straight from the previous answer and resumes the device once, with every answer, at the end or at
/// the first failure (a dark unit costs its neighbours one deadline per poll). A batch keeps the
/// connection until it ends; priority requests (operator reads and writes) still go first, between
/// two of its requests.
///
/// Watchdog: a connection is dropped (and re-opened on the next request) when it stops answering
/// altogether: `timeoutsBeforeReconnect` timeouts in a row from its only unit or from different
/// units behind one gateway. One dead unit behind a gateway never drops its neighbours' connection.
/// Reconnects are paced fleet-wide by a `ConnectThrottle`.
///
/// Serial buses keep libmodbus on a dedicated thread per bus (`SerialBus`).
public actor ModbusLink {
    public static let timeoutsBeforeReconnect = 2

    /// A successful request: the reply and how long it occupied the link (send to answer).
    public struct Response: Sendable {
        public var reply: ModbusReply
        public var busTime: Double
    }

    /// What a batch returned: the answers to its first requests, in order, and the failure of the
    /// request after them when one failed (the rest were not sent).
    public struct Batch: Sendable {
        public var responses: [Response]
        public var failure: ModbusError?
    }

    private struct Pending {
        var id: UInt64
        /// Requests not yet answered; the first one goes out next.
        var requests: ArraySlice<ModbusRequest>
        var unit: UInt8
        var timeout: Double
        var priority: Bool
        var responses: [Response]
        var continuation: UnsafeContinuation<Batch, any Error>

        var request: ModbusRequest? { requests.first }
        var operation: String { request?.operation ?? "request" }

        /// Resumes the waiting device with the answers so far and `failure`.
        func finish(_ failure: ModbusError?) {
            continuation.resume(returning: Batch(responses: responses, failure: failure))
        }
    }

    private struct InFlight {
        var pending: Pending
        var transactionID: UInt16
        var deadline: NIODeadline
        var sentAt: ContinuousClock.Instant
    }

    private enum Connection {
        case idle
        case waitingForSlot
        case connecting
        case connected(any Channel)
        case closed
    }

    public nonisolated let endpoint: LinkEndpoint
    public nonisolated let loop: any EventLoop
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }
    /// Task-executor preference for tasks of devices on this link (see `EventLoopTaskExecutor`).
    public nonisolated let taskExecutor: EventLoopTaskExecutor

    private nonisolated let load = Mutex(LinkLoad())
    private nonisolated let statistics = Mutex(LinkStatistics())
    private nonisolated let users = Atomic<Int>(0)
    private nonisolated let throttle: ConnectThrottle
    private nonisolated let serial: SerialBus?

    private var connection = Connection.idle
    private var urgent = Deque<Pending>()
    private var queue = Deque<Pending>()
    private var inFlight: InFlight?
    private var nextTransaction: UInt16 = 0
    private var nextPending: UInt64 = 0
    private var timeoutUnits: [UInt8] = []
    /// The first unit the link sent to, and whether a different one followed (a gateway in front of
    /// several units). Two fields instead of a set of units: this is updated on every request.
    private var firstUnit: UInt8?
    private var severalUnits = false
    private var hasConnected = false
    /// The one deadline timer of the link, armed lazily: an answer does not cancel it (cancelling is a
    /// linear search of the loop's timer heap); when it fires it re-arms for the request in flight.
    private var deadlineTimer: NIODeadline?
    /// Request frames are built here, one buffer for the link's life.
    private var scratch: [UInt8] = []
    /// The send buffer, reused: written out within `writeAndFlush` on a writable socket, so it is
    /// uniquely referenced again at the next request and `clear()` keeps its storage (no allocation).
    private var sendBuffer: ByteBuffer?

    /// The poll and retry waits of the devices on this link, shared with every link on the same loop
    /// when a `LinkRegistry` made it (see `LoopTimers`).
    public nonisolated let timers: LoopTimers

    public init(endpoint: LinkEndpoint, loop: any EventLoop, throttle: ConnectThrottle = ConnectThrottle(rate: 100, burst: 100)) {
        self.init(endpoint: endpoint, timers: LoopTimers(loop: loop), throttle: throttle)
    }

    /// A link on `timers`' event loop: its devices' waits share that loop's timer entries.
    public init(endpoint: LinkEndpoint, timers: LoopTimers, throttle: ConnectThrottle = ConnectThrottle(rate: 100, burst: 100)) {
        self.endpoint = endpoint
        self.timers = timers
        let loop = timers.loop
        self.loop = loop
        taskExecutor = EventLoopTaskExecutor(loop)
        self.throttle = throttle
        if case .rtu(let settings) = endpoint { serial = SerialBus(settings) } else { serial = nil }
    }

    /// Sends `request` to `unit` and waits (as an event, not a thread) for its answer, at most
    /// `timeout` seconds from the moment it goes out. `priority` requests (operator reads and writes)
    /// go ahead of queued polls.
    public func transact(_ request: ModbusRequest, unit: Int, timeout: Double, priority: Bool = false) async throws -> Response {
        let batch = try await transact(batch: [request], unit: unit, timeout: timeout, priority: priority)
        if let failure = batch.failure { throw failure }
        guard let response = batch.responses.first else {
            throw ModbusError(operation: request.operation, code: ModbusError.protocolViolationCode, message: "no answer recorded")
        }
        return response
    }

    /// Sends `requests` to `unit` one after the other, each with its own deadline of `timeout` seconds,
    /// and resumes the caller once: with every answer, or with the answers before the first failure and
    /// that failure (the rest are not sent). Invalid arguments and cancellation throw.
    public func transact(batch requests: ArraySlice<ModbusRequest>, unit: Int, timeout: Double,
                         priority: Bool = false) async throws -> Batch {
        for request in requests { try request.validate() }
        let operation = requests.first?.operation ?? "request"
        guard let unitID = UInt8(exactly: unit) else {
            throw ModbusError(operation: operation, code: ModbusError.invalidRequestCode, message: "unit id \(unit) outside 0…255")
        }
        guard timeout.isFinite, timeout > 0 else {
            throw ModbusError(operation: operation, code: ModbusError.invalidRequestCode, message: "timeout \(timeout) s")
        }
        if let serial { return try await serial.perform(requests, unit: unit, timeout: timeout, priority: priority) }
        try Task.checkCancellation()
        guard !requests.isEmpty else { return Batch(responses: [], failure: nil) }
        nextPending &+= 1
        let id = nextPending
        // `[self]`: the operation stays isolated to the link, so the answer resumes the waiting device on
        // this event loop (no hop through the global pool).
        return try await withTaskCancellationHandler { [self] in
            // Unsafe (unchecked) continuation: every `Pending` is resumed exactly once, by whoever
            // removes it from the queue or `inFlight` for good (last answer, failure, cancel, close); the
            // checked variant's canary allocation showed in the profile of every request.
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Batch, any Error>) in
                var responses: [Response] = []
                responses.reserveCapacity(requests.count)
                let pending = Pending(id: id, requests: requests, unit: unitID, timeout: timeout, priority: priority,
                                      responses: responses, continuation: continuation)
                if case .closed = connection {
                    pending.finish(Self.closedError(pending.operation))
                    return
                }
                if priority { urgent.append(pending) } else { queue.append(pending) }
                pump()
            }
        } onCancel: {
            loop.execute { self.assumeIsolated { $0.cancel(id) } }
        }
    }

    /// Devices using the link (kept by the registry); a shared link never retries timeouts within a poll.
    public nonisolated var deviceCount: Int { users.load(ordering: .relaxed) }
    nonisolated func addUser(_ delta: Int) { users.add(delta, ordering: .relaxed) }
    /// Counts one more device on a link built outside a registry (tests of shared gateways).
    public nonisolated func addUserForTesting() { addUser(1) }

    public nonisolated var currentStatistics: LinkStatistics { statistics.withLock { $0 } }

    /// Requests waiting behind the one in flight (tests of queueing and cancellation).
    public var queuedRequests: Int { urgent.count + queue.count }

    /// Records a device's bus time and returns the link's load (shared by every device on it).
    public nonisolated func recordPoll(device: String, busTime: Double, interval: Double) -> LinkLoad.Report {
        load.withLock { $0.record(device: device, busTime: busTime, interval: interval) }
    }

    public nonisolated func forget(device: String) {
        load.withLock { $0.forget(device: device) }
    }

    public nonisolated var currentLoad: LinkLoad { load.withLock { $0 } }

    /// Closes the connection; waiting and later requests fail at once.
    public nonisolated func close() {
        serial?.close()
        loop.execute { self.assumeIsolated { $0.closeNow() } }
    }

    // MARK: Queue

    private func pump() {
        guard inFlight == nil, let head = urgent.first ?? queue.first else { return }
        switch connection {
        case .connected(let channel):
            send(urgent.popFirst() ?? queue.removeFirst(), on: channel)
        case .idle:
            connect(timeout: head.timeout)
        case .waitingForSlot, .connecting, .closed:
            return
        }
    }

    private func send(_ pending: Pending, on channel: any Channel) {
        guard let request = pending.request else {
            pending.finish(nil)  // nothing left (never queued so)
            return pump()
        }
        nextTransaction &+= 1  // the first request of a connection carries id 1, like libmodbus
        let tid = nextTransaction
        scratch.removeAll(keepingCapacity: true)
        MBAPFrame.appendRequest(request, transactionID: tid, unit: pending.unit, to: &scratch)
        var buffer = sendBuffer ?? channel.allocator.buffer(capacity: 64)
        sendBuffer = nil
        buffer.clear()
        buffer.writeBytes(scratch)
        channel.writeAndFlush(buffer, promise: nil)
        sendBuffer = buffer
        let deadline = NIODeadline.now() + TimeAmount.nanoseconds(Int64(pending.timeout * 1e9))
        inFlight = InFlight(pending: pending, transactionID: tid, deadline: deadline, sentAt: .now)
        if !severalUnits {
            if let firstUnit { severalUnits = firstUnit != pending.unit } else { firstUnit = pending.unit }
        }
        armDeadlineTimer(deadline)
    }

    private func armDeadlineTimer(_ deadline: NIODeadline) {
        if let armed = deadlineTimer, armed <= deadline { return }  // fires early enough; re-arms then
        deadlineTimer = deadline
        loop.scheduleTask(deadline: deadline) {
            self.assumeIsolated { $0.deadlineTimerFired(deadline) }
        }
    }

    private func deadlineTimerFired(_ deadline: NIODeadline) {
        guard deadlineTimer == deadline else { return }  // superseded by an earlier timer
        deadlineTimer = nil
        guard let f = inFlight else { return }
        if f.deadline <= NIODeadline.now() {
            deadlinePassed(f.transactionID)
        } else {
            armDeadlineTimer(f.deadline)
        }
    }

    private func failAllQueued(_ error: ModbusError) {
        let waiting = Array(urgent) + Array(queue)
        urgent.removeAll()
        queue.removeAll()
        for p in waiting { p.finish(error) }
    }

    private func cancel(_ id: UInt64) {
        if let i = urgent.firstIndex(where: { $0.id == id }) {
            urgent.remove(at: i).continuation.resume(throwing: CancellationError())
        } else if let i = queue.firstIndex(where: { $0.id == id }) {
            queue.remove(at: i).continuation.resume(throwing: CancellationError())
        } else if let f = inFlight, f.pending.id == id {
            // Its answer, if one still comes, is discarded by transaction id.
            inFlight = nil
            f.pending.continuation.resume(throwing: CancellationError())
            pump()
        }
    }

    private func closeNow() {
        // State first: closing a channel calls back into the link synchronously.
        let previous = connection
        connection = .closed
        if case .connected(let channel) = previous { channel.close(promise: nil) }
        if let f = inFlight {
            inFlight = nil
            f.pending.finish(Self.closedError(f.pending.operation))
        }
        failAllQueued(Self.closedError("link"))
    }

    private static func closedError(_ operation: String) -> ModbusError {
        ModbusError(operation: operation, code: ECONNABORTED, message: "link closed")
    }

    // MARK: Connection

    private func connect(timeout: Double) {
        // The first connect follows the device's poll slot (already spread); reconnects are paced.
        let wait = hasConnected ? throttle.reserve() : .zero
        hasConnected = true
        if wait > .zero {
            connection = .waitingForSlot
            loop.scheduleTask(in: TimeAmount(wait)) {
                self.assumeIsolated { link in
                    guard case .waitingForSlot = link.connection else { return }
                    link.openConnection(timeout: timeout)
                }
            }
        } else {
            openConnection(timeout: timeout)
        }
    }

    private func openConnection(timeout: Double) {
        guard case .tcp(let host, let port) = endpoint else { return }
        connection = .connecting
        statistics.withLock { $0.connects += 1 }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount.nanoseconds(Int64(min(timeout, 3600) * 1e9)))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // One handler: every handler is a hop on each read and write.
                    try channel.pipeline.syncOperations.addHandler(ModbusTCPResponseHandler(link: self))
                }
            }
        let future: EventLoopFuture<any Channel>
        if let address = try? SocketAddress(ipAddress: host, port: port) {
            future = bootstrap.connect(to: address)  // a literal address needs no resolver
        } else {
            future = bootstrap.connect(host: host, port: port)
        }
        future.whenComplete { result in
            self.assumeIsolated { $0.connectFinished(result) }
        }
    }

    private func connectFinished(_ result: Result<any Channel, any Error>) {
        switch result {
        case .success(let channel):
            guard case .connecting = connection else {
                channel.close(promise: nil)  // closed meanwhile
                return
            }
            connection = .connected(channel)
            timeoutUnits.removeAll()
            pump()
        case .failure(let error):
            guard case .connecting = connection else { return }
            connection = .idle
            // Every unit behind this address is unreachable alike: fail everything waiting at once.
            failAllQueued(Self.connectError(error, endpoint: endpoint))
        }
    }

    /// Maps NIO's connect failures to errno-style Modbus errors that name the cause.
    static func connectError(_ error: any Error, endpoint: LinkEndpoint) -> ModbusError {
        if let e = error as? NIOConnectionError {
            if e.connectionErrors.isEmpty {
                return ModbusError(operation: "connect", code: ModbusError.dnsFailureCode, message: "cannot resolve host \(e.host)")
            }
            if let first = e.connectionErrors.first?.error { return connectError(first, endpoint: endpoint) }
        }
        if let e = error as? IOError {
            return ModbusError(operation: "connect", code: e.errnoCode, message: "\(String(cString: strerror(e.errnoCode))) (\(endpoint))")
        }
        if let e = error as? ChannelError, case .connectTimeout = e {
            return ModbusError(operation: "connect", code: ETIMEDOUT, message: "connect timed out (\(endpoint))")
        }
        return ModbusError(operation: "connect", code: ECONNREFUSED, message: "\(error) (\(endpoint))")
    }

    private var linkLooksDead: Bool {
        guard timeoutUnits.count >= Self.timeoutsBeforeReconnect else { return false }
        return !severalUnits || Set(timeoutUnits).count >= 2
    }

    private func dropConnection() {
        if case .connected(let channel) = connection {
            connection = .idle
            channel.close(promise: nil)
        }
        timeoutUnits.removeAll()
    }

    // MARK: Events from the channel and the deadline timer

    /// An answer frame, its PDU a slice of the channel's receive buffer.
    func received(transactionID: UInt16, unit: UInt8, pdu: ByteBuffer, channel: ObjectIdentifier) {
        guard case .connected(let current) = connection, ObjectIdentifier(current) == channel else { return }
        guard let f = inFlight, f.transactionID == transactionID else {
            statistics.withLock { $0.staleResponses += 1 }
            return
        }
        inFlight = nil
        timeoutUnits.removeAll()
        let busTime = (ContinuousClock.now - f.sentAt) / .seconds(1)
        var pending = f.pending
        guard let request = pending.requests.popFirst() else { return pump() }
        if unit != pending.unit {
            statistics.withLock { $0.protocolErrors += 1 }
            pending.finish(ModbusError(
                operation: request.operation, code: ModbusError.wrongUnitCode,
                message: "invalid response: from unit \(unit) to a request for unit \(pending.unit)"))
        } else {
            do {
                let reply = try MBAPAnswer.parse(request, pdu: pdu)
                pending.responses.append(Response(reply: reply, busTime: busTime))
                // The batch's next request goes next in its lane: a poll stays contiguous on the
                // connection, and priority requests still go ahead of it.
                if pending.requests.isEmpty {
                    pending.finish(nil)
                } else if pending.priority {
                    urgent.prepend(pending)
                } else {
                    queue.prepend(pending)
                }
            } catch {
                if error.isProtocolViolation { statistics.withLock { $0.protocolErrors += 1 } }
                pending.finish(error)
            }
        }
        pump()
    }

    private func deadlinePassed(_ tid: UInt16) {
        guard let f = inFlight, f.transactionID == tid else { return }
        inFlight = nil
        statistics.withLock { $0.timeouts += 1 }
        timeoutUnits.append(f.pending.unit)
        if linkLooksDead { dropConnection() }
        f.pending.finish(ModbusError(
            operation: f.pending.operation, code: ETIMEDOUT,
            message: "timed out: no complete response within \(f.pending.timeout) s"))
        pump()
    }

    func connectionLost(channel: ObjectIdentifier, error: (any Error)?) {
        guard case .connected(let current) = connection, ObjectIdentifier(current) == channel else { return }
        connection = .idle
        timeoutUnits.removeAll()
        let failure: ModbusError
        if let error = error as? ModbusError {
            statistics.withLock { $0.protocolErrors += 1 }
            failure = error
        } else {
            failure = ModbusError(operation: "receive", code: ECONNRESET, message: "connection closed by \(endpoint)")
        }
        if error != nil { current.close(promise: nil) }
        if let f = inFlight {
            inFlight = nil
            f.pending.finish(failure)
        }
        pump()
    }
}
