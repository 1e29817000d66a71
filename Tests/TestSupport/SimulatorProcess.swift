import Foundation

/// A running `hpsim` with its control channel (stdin commands, JSON replies on stdout).
public final class SimulatorProcess: @unchecked Sendable {
    // `@unchecked Sendable`: `lock` serialises the request/reply exchange on the control channel.
    public let process: ManagedProcess
    /// TCP ports in the order of the `--tcp` arguments.
    public let ports: [Int]
    private let lock = NSLock()

    /// - Parameter namespace: a network namespace to run in (its ports are on that namespace's loopback).
    /// - Parameter tickInterval: seconds between value updates (faster for tests that need every poll to differ).
    public init(_ arguments: [String], namespace: String? = nil, tickInterval: Double = 0.5) throws {
        process = try ManagedProcess(executable: try Products.path("hpsim"), arguments: arguments + ["--exit-on-eof", "--tick-interval", "\(tickInterval)"],
                                     namespace: namespace)
        guard let line = process.stdout.nextLine(timeout: 10),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              object["event"] as? String == "ready" else {
            throw SimulatorError("hpsim did not report ready: \(process.stderr.transcript.joined(separator: "\n"))")
        }
        ports = (object["tcp"] as? [[String: Any]] ?? []).compactMap { $0["port"] as? Int }
    }

    public struct SimulatorError: Error, CustomStringConvertible {
        public let description: String
        init(_ text: String) { description = text }
    }

    /// Sends one control command and returns its JSON reply.
    @discardableResult
    public func command(_ line: String) throws -> [String: Any] {
        try lock.withLock {
            process.send(line)
            guard let reply = process.stdout.nextLine(timeout: 10),
                  let object = try JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any] else {
                throw SimulatorError("no reply to \(line)")
            }
            guard object["ok"] as? Bool == true else { throw SimulatorError("\(line): \(object["error"] ?? "failed")") }
            return object
        }
    }

    /// Statistics of one TCP port.
    public func portStats(_ port: Int) throws -> PortStats {
        let stats = try command("stats")["stats"] as? [String: Any]
        let tcp = stats?["tcp"] as? [String: Any]
        guard let entry = tcp?[String(port)] as? [String: Any] else { throw SimulatorError("no stats for port \(port)") }
        return PortStats(entry)
    }

    /// Statistics of one RTU bus.
    public func busStats(_ device: String) throws -> PortStats {
        let stats = try command("stats")["stats"] as? [String: Any]
        let rtu = stats?["rtu"] as? [String: Any]
        guard let entry = rtu?[device] as? [String: Any] else { throw SimulatorError("no stats for bus \(device)") }
        return PortStats(entry)
    }

    /// The simulator's own description of a profile's points.
    /// The profile's points as hpsim describes them; `arguments` give the layout (e.g. `--luxtronik-circuits 1,3`).
    public static func dumpProfile(_ name: String, arguments: [String] = []) throws -> [ProfilePoint] {
        let process = try ManagedProcess(executable: try Products.path("hpsim"), arguments: arguments + ["--dump-profile", name])
        guard let line = process.stdout.nextLine(timeout: 10),
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let points = object["points"] as? [[String: Any]] else { throw SimulatorError("no profile dump") }
        return points.map(ProfilePoint.init)
    }
}

public struct PortStats: Sendable {
    public var connectionsAccepted: Int
    public var connectionsOpen: Int
    public var requestsTotal: Int
    public var requestsByFunction: [Int: Int]

    init(_ entry: [String: Any]) {
        connectionsAccepted = entry["connections_accepted"] as? Int ?? 0
        connectionsOpen = entry["connections_open"] as? Int ?? 0
        requestsTotal = entry["requests_total"] as? Int ?? 0
        var byFunction: [Int: Int] = [:]
        for (key, value) in entry["requests"] as? [String: Int] ?? [:] { if let fc = Int(key) { byFunction[fc] = value } }
        requestsByFunction = byFunction
    }
}

public struct ProfilePoint: Sendable {
    public var name: String
    public var table: String
    public var address: Int
    public var type: String
    public var order: String
    public var value: String
    public var constant: Bool
    /// Registers of a string point (0 otherwise).
    public var length: Int
    /// physical = raw × scale, in the simulator's own table.
    public var scale: Double

    /// The physical value a decoder should report for a numeric point.
    public var physical: Double? { Double(value).map { $0 * scale } }

    init(_ object: [String: Any]) {
        name = object["name"] as? String ?? ""
        table = object["table"] as? String ?? ""
        address = object["address"] as? Int ?? 0
        type = object["type"] as? String ?? ""
        order = object["order"] as? String ?? ""
        value = object["value"] as? String ?? ""
        constant = object["constant"] as? Bool ?? false
        length = object["length"] as? Int ?? 0
        scale = object["scale"] as? Double ?? 1
    }
}
