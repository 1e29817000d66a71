import Drivers
import Foundation
import HPCore
import ModbusKit

extension DeviceActor {
    /// A fresh read of `names` (when empty, the registers a poll reads), ahead of queued polls. Any
    /// register of the model may be named, also one of a group the device does not poll.
    public func readNow(_ names: [String]) async throws -> [Sample] {
        let registers = runtime.model.registers
        let unpolled = runtime.model.unpolled
        var selected = Set(registers.indices.filter { registers[$0].access.isReadable && !unpolled.contains($0) })
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
        let plan = runtime.planner.plan(registers, excluded: excluded)
        let outcome = try await executor.execute(plan, on: link, priority: true)
        if let failure = outcome.failure { throw DeviceOperationError(.deviceError, failure.description) }
        return outcome.samples
    }

    var executor: PollExecutor {
        PollExecutor(unitID: runtime.device.modbus.unitID, timeout: runtime.device.modbus.timeout, registers: runtime.model.registers, table: readTable)
    }
}
