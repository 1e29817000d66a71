import Drivers
import Foundation
import HPCore
import ModbusKit

extension DeviceActor {
    /// A fresh read of `names` (all readable registers when empty), ahead of queued polls.
    public func readNow(_ names: [String]) async throws -> [Sample] {
        let registers = runtime.model.registers
        var selected = Set(registers.indices.filter { registers[$0].access.isReadable })
        if !names.isEmpty {
            selected = []
            for name in names {
                guard let index = registers.firstIndex(where: { $0.name == name }) else {
                    throw DeviceOperationError(.unknownRegister, "\(runtime.device.id) has no register \"\(name)\"")
                }
                selected.insert(index)
            }
        }
        let excluded = Set(registers.indices).subtracting(selected)
        let plan = runtime.polling.planner.plan(registers, excluded: excluded)
        let executor = PollExecutor(unitID: runtime.device.modbus.unitID, timeout: runtime.device.modbus.timeout, registers: registers)
        let outcome = try await link.perform(priority: true) { session in executor.execute(plan, on: session) }
        if let failure = outcome.failure { throw DeviceOperationError(.deviceError, failure.description) }
        return outcome.samples
    }

    /// Validates, writes and reads back one register, ahead of queued polls.
    /// EEPROM registers accept at most one write per minute (flash wear).
    public func write(register name: String, value text: String) async throws -> WriteResult {
        let registers = runtime.model.registers
        guard let index = registers.firstIndex(where: { $0.name == name }) else {
            throw DeviceOperationError(.unknownRegister, "\(runtime.device.id) has no register \"\(name)\"")
        }
        let register = registers[index]
        let encoded: (payload: RegisterEncoder.Payload, value: Double)
        do {
            encoded = try RegisterEncoder.encode(register, text: text)
        } catch let error as RegisterEncoder.Rejected {
            throw DeviceOperationError(.rejected, error.message)
        }
        let now = Date()
        if register.eeprom, let last = lastEEPROMWrite[name], now.timeIntervalSince(last) < 60 {
            throw DeviceOperationError(.rejected, "\(name) is stored in EEPROM; one write per 60 s (last \(Int(now.timeIntervalSince(last))) s ago)")
        }
        let unit = runtime.device.modbus.unitID
        let timeout = runtime.device.modbus.timeout
        let readable = register.access.isReadable
        let result: (previous: Sample?, readBack: Sample?)
        do {
            result = try await link.perform(priority: true) { session in
            try session.prepare(unit: unit, timeout: timeout)
            func read() throws -> Sample? {
                guard readable else { return nil }
                if register.registerType == .coil {
                    let bits = try session.readBits(discrete: false, address: register.address, count: 1)
                    return RegisterDecoder.decode(register, index: index, bit: bits[0])
                }
                var words: [UInt16] = []
                try session.readRegisters(input: false, address: register.address, count: register.count, into: &words)
                return RegisterDecoder.decode(register, index: index, words: words[...])
            }
            let previous = try read()
            switch encoded.payload {
            case .bit(let bit): try session.writeBit(address: register.address, value: bit)
            case .words(let words): try session.writeRegisters(address: register.address, words: words, forceMultiple: register.writeMultiple)
            }
            return (previous, try read())
            }
        } catch let error as ModbusError {
            throw DeviceOperationError(.deviceError, error.description)
        }
        if register.eeprom { lastEEPROMWrite[name] = now }
        let readBack = result.readBack?.value.doubleValue
        let tolerance = register.dataType.isInteger ? abs(register.scale) / 2 : max(1e-6, abs(encoded.value) * 1e-6)
        return WriteResult(register: name, requested: encoded.value, previous: result.previous?.value.doubleValue,
                           readBack: readBack, verified: readBack.map { abs($0 - encoded.value) <= tolerance } ?? false)
    }
}
