import DeviceActor
import Foundation
import HPCore
import Sinks

/// Scheduled writes: added (validated, stored, audited), listed and removed; fired by the loop.
extension WriteControl {
    /// Adds a job after checking, without touching the device, that the write would be accepted.
    public func addJob(id: String, register: String, value: String, days: String, time: String, client: String,
                       now: Date = Date()) async throws -> ScheduledJob {
        let jobSchedule: JobSchedule
        do {
            jobSchedule = try JobSchedule(days: days, time: time)
        } catch let error as JobSchedule.Invalid {
            throw ControlError("bad_request", error.description)
        }
        let config = control.configuration
        guard let device = config.device(id) else { throw ControlError("not_found", "no heat pump \(id)") }
        guard let definition = config.models[device.model]?.registers.first(where: { $0.name == register }) else {
            throw DeviceOperationError(.unknownRegister, "\(id) has no register \"\(register)\"")
        }
        _ = try DeviceActor.encode(definition, text: value)
        guard let store else { throw ControlError("unavailable", "the SQLite store is not available; jobs need it") }
        let rowID = try await store.addWriteJob(heatpumpID: id, register: register, value: value,
                                                days: jobSchedule.daysText, time: jobSchedule.timeText, client: client)
        let job = WriteJob(id: rowID, heatpumpID: id, register: register, value: value, schedule: jobSchedule, client: client)
        schedule.add(job, now: now)
        publishCounts()
        wake()
        await audit(WriteAuditEntry(heatpumpID: id, register: register, requested: value, previous: nil, readBack: nil,
                                    result: "job_added", message: "job #\(rowID): \(jobSchedule)", client: client))
        return ScheduledJob(job: job, nextRun: schedule.nextRun(of: rowID)?.timeIntervalSince1970)
    }

    public func jobs(heatpumpID: String? = nil) -> [ScheduledJob] {
        schedule.jobs.values.filter { heatpumpID == nil || $0.job.heatpumpID == heatpumpID }.sorted { $0.job.id < $1.job.id }
            .map { ScheduledJob(job: $0.job, nextRun: $0.next?.timeIntervalSince1970) }
    }

    public func removeJob(_ jobID: Int64, client: String) async throws -> WriteJob {
        let stored = try await store?.deleteWriteJob(id: jobID) ?? false
        guard let job = schedule.remove(job: jobID), stored || store == nil else {
            throw ControlError("not_found", "no job #\(jobID)")
        }
        publishCounts()
        await audit(WriteAuditEntry(heatpumpID: job.heatpumpID, register: job.register, requested: job.value, previous: nil, readBack: nil,
                                    result: "job_removed", message: "job #\(jobID): \(job.schedule)", client: client))
        return job
    }
}
