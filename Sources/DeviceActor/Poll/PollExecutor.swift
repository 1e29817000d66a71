import Drivers
import HPCore
import ModbusKit

/// Executes a read plan against a device; runs on the link's I/O thread.
///
/// A request answered with Illegal Function or Illegal Data Address is bisected until the offending
/// registers are isolated; they are reported in `rejected` while every other register still arrives.
public struct PollExecutor: Sendable {
    public let unitID: Int
    public let timeout: Double
    public let registers: [RegisterDefinition]

    public init(unitID: Int, timeout: Double, registers: [RegisterDefinition]) {
        self.unitID = unitID
        self.timeout = timeout
        self.registers = registers
    }

    public func execute(_ plan: [ReadRequest], on session: LinkSession) -> PollOutcome {
        var outcome = PollOutcome()
        outcome.samples.reserveCapacity(registers.count)  // one allocation per poll for the results
        let start = ContinuousClock.now
        do {
            try session.prepare(unit: unitID, timeout: timeout)
            var words: [UInt16] = []
            for request in plan {
                try read(request.registerType, members: request.members, words: &words, outcome: &outcome, session: session)
            }
        } catch let error as ModbusError {
            outcome.failure = error
            outcome.samples.removeAll()
        } catch {
            outcome.failure = ModbusError(operation: "poll", code: -1, message: "\(error)")
            outcome.samples.removeAll()
        }
        outcome.linkTime = (ContinuousClock.now - start) / .seconds(1)
        return outcome
    }

    private func read(_ type: RegisterType, members: [Int], words: inout [UInt16], outcome: inout PollOutcome,
                      session: LinkSession) throws {
        guard !members.isEmpty else { return }
        let start = members.map { registers[$0].address }.min() ?? 0
        let end = members.map { registers[$0].address + registers[$0].count }.max() ?? start
        outcome.requests += 1
        do {
            switch type {
            case .holding, .input:
                try session.readRegisters(input: type == .input, address: start, count: end - start, into: &words)
                for index in members {
                    let r = registers[index]
                    let offset = r.address - start
                    if let sample = RegisterDecoder.decode(r, index: index, words: words[offset..<(offset + r.count)]) {
                        outcome.samples.append(sample)
                    }
                }
            case .coil, .discrete:
                let bits = try session.readBits(discrete: type == .discrete, address: start, count: end - start)
                for index in members {
                    if let sample = RegisterDecoder.decode(registers[index], index: index, bit: bits[registers[index].address - start]) {
                        outcome.samples.append(sample)
                    }
                }
            }
            outcome.answered.append(contentsOf: members)
        } catch let error as ModbusError where error.exceptionCode == 1 || error.exceptionCode == 2 {
            if members.count == 1 {
                outcome.rejected.append(members[0])
                return
            }
            let half = members.count / 2
            try read(type, members: Array(members[..<half]), words: &words, outcome: &outcome, session: session)
            try read(type, members: Array(members[half...]), words: &words, outcome: &outcome, session: session)
        }
    }
}
