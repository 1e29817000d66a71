import DeviceActor
import Foundation
import HPCore
import Sinks

/// SG Ready and PV surplus: vendor-neutral operations through the model's `operations:` mapping.
extension WriteControl {
    /// Sets an SG Ready state with the model's mapping: its `prepare` writes, then the state register;
    /// each write goes through `write` (validated, budgeted, read back, audited). Refused with
    /// `unsupported` for a model without SG Ready, `bad_request` for a state the vendor lacks.
    public func sgReady(id: String, state name: String, client: String) async throws -> [WriteReport] {
        let actor = try await control.runningActor(id)
        let model = actor.runtime.model
        guard let sg = model.operations.sgReady else {
            let other = model.operations.pvSurplus == nil ? "" : "; it supports pv-surplus"
            throw ControlError("unsupported", "model \(model.name) (\(id)) has no SG Ready operation over Modbus\(other)")
        }
        let supported = sg.supported.map(\.rawValue).joined(separator: ", ")
        guard let state = SGReadyState(name: name), let value = sg.states[state] else {
            throw ControlError("bad_request", "\(model.name) has no SG Ready state \"\(name)\"; it supports \(supported)" + (sg.states[.lock] == nil ? "" : " (off = lock)"))
        }
        let writes = sg.prepare + [OperationWrite(register: sg.register, value: value)]
        var reports: [WriteReport] = []
        for w in writes {
            reports.append(try await write(id: id, register: w.register, value: w.value, client: "sg-ready \(state.rawValue) (\(client))"))
        }
        logger.info("SG Ready state set", metadata: ["heatpump_id": "\(id)", "state": "\(state.rawValue)", "client": "\(client)"])
        return reports
    }

    /// Reports PV surplus (and optionally production), in kW, to the model's energy-manager registers.
    public func pvSurplus(id: String, kilowatts: Double, productionKilowatts: Double?, client: String) async throws -> [WriteReport] {
        let actor = try await control.runningActor(id)
        let model = actor.runtime.model
        guard let pv = model.operations.pvSurplus else {
            let other = model.operations.sgReady == nil ? "" : "; it supports sg-ready"
            throw ControlError("unsupported", "model \(model.name) (\(id)) takes no PV surplus over Modbus\(other)")
        }
        var writes = [OperationWrite(register: pv.register, value: "\(kilowatts)")]
        if let production = productionKilowatts {
            guard let register = pv.production else {
                throw ControlError("unsupported", "model \(model.name) takes no PV production value; send the surplus only")
            }
            writes.append(OperationWrite(register: register, value: "\(production)"))
        }
        var reports: [WriteReport] = []
        for w in writes {
            reports.append(try await write(id: id, register: w.register, value: w.value, client: "pv-surplus (\(client))"))
        }
        return reports
    }
}
