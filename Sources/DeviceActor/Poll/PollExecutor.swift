import Drivers
import HPCore
import ModbusKit

/// Executes a read plan against a device over its link: the one read path for polls, operator reads,
/// `test` and write read-backs.
///
/// A request answered with Illegal Function or Illegal Data Address is bisected until the offending
/// registers are isolated; they are reported in `rejected` while every other register still arrives.
/// It runs in its caller's isolation (the device actor, on the link's event loop): no thread hop.
public struct PollExecutor: Sendable {
    public let unitID: Int
    public let timeout: Double
    public let registers: [RegisterDefinition]
    /// The registers' read facts, flat (see `RegisterReadTable`); a device actor builds it once.
    public let table: RegisterReadTable

    public init(unitID: Int, timeout: Double, registers: [RegisterDefinition], table: RegisterReadTable? = nil) {
        self.unitID = unitID
        self.timeout = timeout
        self.registers = registers
        if let table, table.count == registers.count {
            self.table = table
        } else {
            self.table = RegisterReadTable(registers)
        }
    }

    /// Runs `plan`; Modbus failures end up in the outcome, only cancellation throws.
    ///
    /// The whole plan goes to the link as one batch: the device task resumes once per poll, not once
    /// per request. A request answered with Illegal Function / Illegal Data Address ends the batch; it
    /// is bisected on its own and the rest of the plan follows as the next batch.
    public func execute(_ plan: [ReadRequest], on link: ModbusLink, priority: Bool = false,
                        isolation: isolated (any Actor)? = #isolation) async throws -> PollOutcome {
        var outcome = PollOutcome()
        outcome.samples.reserveCapacity(registers.count)  // one allocation per poll for the results
        var spans: [Span] = []
        spans.reserveCapacity(plan.count)
        var requests: [ModbusRequest] = []
        requests.reserveCapacity(plan.count)
        for read in plan where !read.members.isEmpty {
            let span = span(read.registerType, members: read.members)
            spans.append(span)
            requests.append(Self.request(read.registerType, address: span.start, count: span.count))
        }
        do {
            var next = 0
            while next < requests.count {
                let batch = try await link.transact(batch: requests[next...], unit: unitID, timeout: timeout, priority: priority)
                for response in batch.responses where next < spans.count {
                    outcome.requests += 1
                    outcome.linkTime += response.busTime
                    try decode(response.reply, members: spans[next].members, start: spans[next].start, outcome: &outcome)
                    next += 1
                }
                guard let failure = batch.failure else {
                    guard batch.responses.isEmpty else { continue }
                    throw ModbusError(operation: "read", code: ModbusError.protocolViolationCode, message: "no answer recorded")
                }
                guard next < spans.count else { break }
                outcome.requests += 1
                guard failure.exceptionCode == 1 || failure.exceptionCode == 2 else { throw failure }
                try await bisect(spans[next], outcome: &outcome, link: link, priority: priority)
                next += 1
            }
        } catch let error as ModbusError {
            outcome.failure = error
            outcome.samples.removeAll()
        }
        return outcome
    }

    /// A one-register read with a short deadline: is the device answering at all?
    public func probe(_ plan: [ReadRequest], on link: ModbusLink, timeout probeTimeout: Double,
                      isolation: isolated (any Actor)? = #isolation) async throws -> ModbusError? {
        guard let first = plan.first, let member = first.members.first else { return nil }
        let request = Self.request(first.registerType, address: table.entries[member].address, count: 1)
        do {
            _ = try await link.transact(request, unit: unitID, timeout: min(timeout, probeTimeout))
            return nil
        } catch let error as ModbusError {
            // An exception is an answer: the device is there.
            return error.deviceAnswered ? nil : error
        }
    }

    /// Reads one register (operator writes read back through here).
    public func read(register index: Int, on link: ModbusLink, priority: Bool,
                     isolation: isolated (any Actor)? = #isolation) async throws -> Sample? {
        var outcome = PollOutcome()
        try await read(registers[index].registerType, members: [index], outcome: &outcome, link: link, priority: priority)
        if let rejected = outcome.rejected.first {
            throw ModbusError(operation: "read", code: ModbusError.exceptionCode(2), message: "\(registers[rejected].name): illegal data address")
        }
        return outcome.samples.first
    }

    static func request(_ type: RegisterType, address: Int, count: Int) -> ModbusRequest {
        switch type {
        case .holding: .readHoldingRegisters(address: address, count: count)
        case .input: .readInputRegisters(address: address, count: count)
        case .coil: .readCoils(address: address, count: count)
        case .discrete: .readDiscreteInputs(address: address, count: count)
        }
    }

    /// One planned request: its register type, members and the address range they span.
    struct Span {
        var type: RegisterType
        var members: [Int]
        var start: Int
        var count: Int
    }

    private func span(_ type: RegisterType, members: [Int]) -> Span {
        var start = Int.max
        var end = Int.min
        for index in members {
            start = min(start, table.entries[index].address)
            end = max(end, table.entries[index].address + table.entries[index].count)
        }
        return Span(type: type, members: members, start: start, count: end - start)
    }

    /// Reads one span with its own request (bisection and single-register reads).
    private func read(_ type: RegisterType, members: [Int], outcome: inout PollOutcome, link: ModbusLink, priority: Bool,
                      isolation: isolated (any Actor)? = #isolation) async throws {
        guard !members.isEmpty else { return }
        let span = span(type, members: members)
        outcome.requests += 1
        do {
            let response = try await link.transact(Self.request(type, address: span.start, count: span.count), unit: unitID,
                                                   timeout: timeout, priority: priority)
            outcome.linkTime += response.busTime
            try decode(response.reply, members: members, start: span.start, outcome: &outcome)
        } catch let error as ModbusError where error.exceptionCode == 1 || error.exceptionCode == 2 {
            try await bisect(span, outcome: &outcome, link: link, priority: priority)
        }
    }

    /// A span the device rejected (Illegal Function / Illegal Data Address): halve it until the
    /// offending registers are alone; they go to `rejected`, every other register is still read.
    private func bisect(_ span: Span, outcome: inout PollOutcome, link: ModbusLink, priority: Bool,
                        isolation: isolated (any Actor)? = #isolation) async throws {
        if span.members.count == 1 {
            outcome.rejected.append(span.members[0])
            return
        }
        let half = span.members.count / 2
        try await read(span.type, members: Array(span.members[..<half]), outcome: &outcome, link: link, priority: priority)
        try await read(span.type, members: Array(span.members[half...]), outcome: &outcome, link: link, priority: priority)
    }

    /// Decodes an answer to the request for `members` (starting at `start`) into samples.
    private func decode(_ reply: ModbusReply, members: [Int], start: Int, outcome: inout PollOutcome) throws(ModbusError) {
        switch reply {
        case .registers(let words):
            table.entries.withUnsafeBufferPointer { entries in
                for index in members {
                    let offset = entries[index].address - start
                    let value = words[offset..<(offset + entries[index].count)]
                    if entries[index].plain {
                        RegisterDecoder.decode(entries[index], index: index, words: value, into: &outcome.samples)
                    } else {
                        RegisterDecoder.decode(registers[index], index: index, words: value, into: &outcome.samples)
                    }
                }
            }
        case .bits(let bits):
            for index in members {
                RegisterDecoder.decode(registers[index], index: index, bit: bits[table.entries[index].address - start], into: &outcome.samples)
            }
        case .written:
            throw ModbusError(operation: "read", code: ModbusError.protocolViolationCode, message: "invalid response: write answer to a read")
        }
        outcome.answered.append(contentsOf: members)
    }
}
