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
        let outcome = try await executor.execute(plan, on: link, priority: true)
        if let failure = outcome.failure { throw DeviceOperationError(.deviceError, failure.description) }
        return outcome.samples
    }

    /// Validates, writes and reads back one register, ahead of queued polls.
    /// EEPROM registers accept at most one write per minute (flash wear); the slot is taken before
    /// the first `await`, so two concurrent writes can never both pass the check.
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
        let previousSlot = lastEEPROMWrite[name]
        if register.eeprom {
            if let last = previousSlot, now.timeIntervalSince(last) < 60 {
                throw DeviceOperationError(.rejected, "\(name) is stored in EEPROM; one write per 60 s (last \(Int(now.timeIntervalSince(last))) s ago)")
            }
            lastEEPROMWrite[name] = now
        }
        let request: ModbusRequest = switch encoded.payload {
        case .bit(let bit): .writeSingleCoil(address: register.address, value: bit)
        case .words(let words) where words.count == 1 && !register.writeMultiple: .writeSingleRegister(address: register.address, value: words[0])
        case .words(let words): .writeMultipleRegisters(address: register.address, values: words)
        }
        let executor = self.executor
        let readable = register.access.isReadable
        var previous: Sample?
        var readBack: Sample?
        do {
            if readable { previous = try await executor.read(register: index, on: link, priority: true) }
            _ = try await link.transact(request, unit: runtime.device.modbus.unitID, timeout: runtime.device.modbus.timeout, priority: true)
        } catch let error as ModbusError {
            // Nothing was written: give the EEPROM slot back.
            if register.eeprom { lastEEPROMWrite[name] = previousSlot }
            throw DeviceOperationError(.deviceError, error.description)
        }
        do {
            if readable { readBack = try await executor.read(register: index, on: link, priority: true) }
        } catch let error as ModbusError {
            throw DeviceOperationError(.deviceError, "written, but the read-back failed: \(error.description)")
        }
        let readBackValue = readBack?.value.doubleValue
        let tolerance = register.dataType.isInteger ? abs(register.scale) / 2 : max(1e-6, abs(encoded.value) * 1e-6)
        return WriteResult(register: name, requested: encoded.value, previous: previous?.value.doubleValue,
                           readBack: readBackValue, verified: readBackValue.map { abs($0 - encoded.value) <= tolerance } ?? false)
    }

    var executor: PollExecutor {
        PollExecutor(unitID: runtime.device.modbus.unitID, timeout: runtime.device.modbus.timeout, registers: runtime.model.registers, table: readTable)
    }
}
