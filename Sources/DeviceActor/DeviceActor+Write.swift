import Drivers
import Foundation
import HPCore
import ModbusKit

extension DeviceActor {
    /// The one write path (operator writes, cyclic refreshes, scheduled jobs): validates, applies the
    /// register's write class, writes ahead of queued polls and reads back.
    ///
    /// - `eeprom`: a slot of `ledger`'s budget is taken before the first `await`; the current value is
    ///   read first and an unchanged value is not written (`unchanged`, even over budget); a different
    ///   value over budget is refused with `eeprom_budget` and never written.
    /// - `pulse`: `value` may be omitted (the register's `pulse_value` is sent); never read back.
    /// - `cyclic`: written every time (a refresh must reach the device even when the value is unchanged).
    /// - Parameter ledger: the daemon's persisted EEPROM history; nil uses this actor's in-memory one.
    public func write(register name: String, value text: String?, ledger: WriteLedger? = nil) async throws -> WriteResult {
        let registers = runtime.model.registers
        guard let index = registers.firstIndex(where: { $0.name == name }) else {
            throw DeviceOperationError(.unknownRegister, "\(runtime.device.id) has no register \"\(name)\"")
        }
        let register = registers[index]
        let encoded = try Self.encode(register, text: text)
        let ledger = ledger ?? localLedger
        let key = WriteLedger.Key(heatpumpID: runtime.device.id, register: name)
        var slot: Double?
        var overBudget: DeviceOperationError?
        if register.writeClass == .eeprom {
            do {
                slot = try ledger.reserve(key, now: Date().timeIntervalSince1970)
            } catch let error as DeviceOperationError {
                overBudget = error
            }
        }
        let request: ModbusRequest = switch encoded.payload {
        case .bit(let bit): .writeSingleCoil(address: register.address, value: bit)
        case .words(let words) where words.count == 1 && !register.writeMultiple: .writeSingleRegister(address: register.address, value: words[0])
        case .words(let words): .writeMultipleRegisters(address: register.address, values: words)
        }
        let executor = self.executor
        let readable = register.access.isReadable && register.writeClass != .pulse
        let tolerance = register.dataType.isInteger ? abs(register.scale) / 2 : max(1e-6, abs(encoded.value) * 1e-6)
        var previous: Sample?
        // Over budget and nothing to compare with: refused before any traffic.
        if let overBudget, !readable { throw overBudget }
        do {
            if readable { previous = try await executor.read(register: index, on: link, priority: true) }
            if register.writeClass == .eeprom, let current = previous?.value.doubleValue, abs(current - encoded.value) <= tolerance {
                // Already set: nothing is written, so the budget is irrelevant (and a slot is given back).
                if let slot { ledger.release(key, slot: slot) }
                return WriteResult(register: name, requested: encoded.value, previous: current, readBack: current, outcome: .unchanged)
            }
            // Over budget and a different value: refused, nothing written.
            if let overBudget { throw overBudget }
            _ = try await link.transact(request, unit: runtime.device.modbus.unitID, timeout: runtime.device.modbus.timeout, priority: true)
        } catch let error as ModbusError {
            // Nothing was written: give the EEPROM slot back.
            if let slot { ledger.release(key, slot: slot) }
            throw DeviceOperationError(.deviceError, error.description)
        }
        if let slot {
            do {
                try await ledger.commit(key, slot: slot)
            } catch {
                // Still counted in memory; only a restart could forget it.
                logger.error("EEPROM write not recorded in the store", metadata: ["register": "\(name)", "error": "\(error)"])
            }
        }
        guard readable else {
            return WriteResult(register: name, requested: encoded.value, previous: nil, readBack: nil, outcome: .sent)
        }
        let readBack: Sample?
        do {
            readBack = try await executor.read(register: index, on: link, priority: true)
        } catch let error as ModbusError {
            throw DeviceOperationError(.deviceError, "written, but the read-back failed: \(error.description)")
        }
        let readBackValue = readBack?.value.doubleValue
        let matches = readBackValue.map { abs($0 - encoded.value) <= tolerance } ?? false
        return WriteResult(register: name, requested: encoded.value, previous: previous?.value.doubleValue,
                           readBack: readBackValue, outcome: matches ? .verified : .unverified)
    }

    /// Encodes `text` for `register` exactly as a write would, without touching a device (jobs are
    /// checked when they are added, not when they first fire); a pulse register without a value
    /// sends its `pulse_value`, and any other value for it is refused.
    public static func encode(_ register: RegisterDefinition, text: String?) throws -> (payload: RegisterEncoder.Payload, value: Double) {
        var text = text
        if register.writeClass == .pulse, let pulse = register.pulseValue {
            let fixed = Int64(exactly: pulse).map(String.init) ?? "\(pulse)"
            if let given = text, Double(given.trimmingCharacters(in: .whitespaces)) != pulse {
                throw DeviceOperationError(.rejected, "\(register.name) is a pulse register: it only takes \(fixed), found \"\(given)\"")
            }
            text = fixed
        }
        guard let text else {
            throw DeviceOperationError(.rejected, "\(register.name) needs a value")
        }
        do {
            return try RegisterEncoder.encode(register, text: text)
        } catch let error as RegisterEncoder.Rejected {
            throw DeviceOperationError(.rejected, error.message)
        }
    }
}
