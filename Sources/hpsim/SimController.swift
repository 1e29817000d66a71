import Foundation

/// Owns every simulated endpoint; answers control commands and writes stats.
///
/// `@unchecked Sendable`: gateways and buses are fixed after start-up; each guards its own state.
final class SimController: @unchecked Sendable {
    let gateways: [SimGateway]
    let buses: [SimBus]

    init(gateways: [SimGateway], buses: [SimBus]) {
        self.gateways = gateways
        self.buses = buses
    }

    func tick(at t: Double) {
        for gateway in gateways { for unit in gateway.units.values { unit.tick(at: t) } }
        for bus in buses { for unit in bus.units.values { unit.tick(at: t) } }
    }

    func stats() -> [String: Any] {
        [
            "tcp": Dictionary(uniqueKeysWithValues: gateways.map { (String($0.port), $0.stats()) }),
            "rtu": Dictionary(uniqueKeysWithValues: buses.map { ($0.device, $0.stats()) }),
        ]
    }

    func readyMessage() -> [String: Any] {
        [
            "event": "ready",
            "tcp": gateways.map { ["port": $0.port, "units": $0.units.keys.sorted(), "profiles": Array(Set($0.units.values.map(\.profile.name))).sorted()] },
            "rtu": buses.map { ["device": $0.device, "units": $0.units.keys.sorted()] },
        ]
    }

    /// Units addressed by `target` (a TCP port or RTU device) and `unit` (`*` for all).
    private func units(_ target: String, _ unit: String) throws -> [SimUnit] {
        let all: [Int: SimUnit]
        if let gateway = gateways.first(where: { String($0.port) == target }) {
            all = gateway.units
        } else if let bus = buses.first(where: { $0.device == target }) {
            all = bus.units
        } else {
            throw CommandError("unknown target \(target)")
        }
        if unit == "*" { return Array(all.values) }
        guard let id = Int(unit), let found = all[id] else { throw CommandError("unknown unit \(unit) at \(target)") }
        return [found]
    }

    private func gateway(_ target: String) throws -> SimGateway {
        guard let gateway = gateways.first(where: { String($0.port) == target }) else { throw CommandError("unknown port \(target)") }
        return gateway
    }

    struct CommandError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Executes one control line; returns the JSON reply object.
    func execute(_ line: String) -> [String: Any] {
        let words = line.split(separator: " ").map(String.init)
        guard let command = words.first else { return ["ok": false, "error": "empty command"] }
        func arg(_ i: Int) throws -> String {
            guard words.count > i else { throw CommandError("\(command): missing argument \(i)") }
            return words[i]
        }
        func table(_ text: String) throws -> SimTable {
            guard let t = SimTable(rawValue: text) else { throw CommandError("unknown table \(text)") }
            return t
        }
        do {
            switch command {
            case "stats":
                return ["ok": true, "stats": stats()]
            case "down":
                try gateway(arg(1)).stop()
            case "up":
                try gateway(arg(1)).start()
            case "hang":
                let on = try arg(3) == "on"
                for u in try units(arg(1), arg(2)) { u.updateFaults { $0.hang = on } }
            case "latency":
                guard let ms = Int(try arg(3)) else { throw CommandError("latency needs milliseconds") }
                for u in try units(arg(1), arg(2)) { u.updateFaults { $0.latencyMs = ms } }
            case "exception":
                // exception TARGET UNIT TABLE ADDRESS CODE (CODE 0 clears)
                let t = try table(arg(3))
                guard let address = Int(try arg(4)), let code = Int(try arg(5)) else { throw CommandError("exception needs ADDRESS CODE") }
                for u in try units(arg(1), arg(2)) {
                    u.updateFaults { $0.exceptions[t, default: [:]][address] = code == 0 ? nil : code }
                }
            case "absent":
                // absent TARGET UNIT POINT on|off: the point serves its vendor's "not available" value
                let name = try arg(3)
                let on = try arg(4) == "on"
                for u in try units(arg(1), arg(2)) where !u.setAbsent(name, on) {
                    throw CommandError("profile \(u.profile.name) has no point \(name) with a \"not available\" value")
                }
            case "freeze":
                // freeze TARGET UNIT POINT on|off: the point keeps its current value (a stuck sensor)
                let name = try arg(3)
                let on = try arg(4) == "on"
                for u in try units(arg(1), arg(2)) where !u.setFrozen(name, on) {
                    throw CommandError("profile \(u.profile.name) has no point \(name)")
                }
            case "compressor":
                // compressor TARGET UNIT on|off|auto: hold the compressor (and what follows it: power, flow, status)
                let mode = try arg(3)
                guard ["on", "off", "auto"].contains(mode) else { throw CommandError("compressor needs on, off or auto") }
                for u in try units(arg(1), arg(2)) { u.forceCompressor(mode == "auto" ? nil : mode == "on") }
            case "defrost":
                // defrost TARGET UNIT on|off: a defrost (with the compressor on): supply 3 K below return, the defrost register/mode set
                let mode = try arg(3)
                guard ["on", "off"].contains(mode) else { throw CommandError("defrost needs on or off") }
                for u in try units(arg(1), arg(2)) { u.setDefrost(mode == "on") }
            case "clear":
                for u in try units(arg(1), arg(2)) { u.updateFaults { $0 = SimFaults() } }
            case "get":
                guard let address = Int(try arg(4)), let u = try units(arg(1), arg(2)).first,
                      let value = u.word(table: try table(arg(3)), address: address) else { throw CommandError("no such register") }
                return ["ok": true, "value": value]
            case "set":
                guard let address = Int(try arg(4)), let value = Int(try arg(5)) else { throw CommandError("set needs ADDRESS VALUE") }
                for u in try units(arg(1), arg(2)) { u.setWord(table: try table(arg(3)), address: address, value: value) }
            default:
                throw CommandError("unknown command \(command); commands: stats, down, up, hang, latency, exception, absent, freeze, compressor, defrost, clear, get, set")
            }
            return ["ok": true]
        } catch let error as CommandError {
            return ["ok": false, "error": error.message]
        } catch {
            return ["ok": false, "error": "\(error)"]
        }
    }

    static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
