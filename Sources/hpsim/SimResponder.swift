import Foundation
import ModbusKit

/// Answers one request for a unit, applying its faults. Shared by the TCP and RTU front ends.
enum SimResponder {
    enum Outcome { case replied, swallowed, noSuchUnit }

    static func handle(_ request: SimRequest, frame: ArraySlice<UInt8>, unit: SimUnit?, session: ModbusServerSession,
                       extraDelay: Double = 0) throws -> Outcome {
        guard let unit else { return .noSuchUnit }
        let faults = unit.account(function: request.function)
        if faults.hang { return .swallowed }
        let delay = Double(faults.latencyMs) / 1000 + extraDelay
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        if let table = request.table, let code = faults.exception(table: table, range: request.range) {
            try session.replyException(frame, code: code)
        } else {
            try unit.reply(request, frame: frame, session: session)
        }
        return .replied
    }
}
