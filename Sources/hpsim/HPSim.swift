import ArgumentParser
import ModbusKit
import Foundation

/// `hpsim`: simulated heat pumps over Modbus TCP and RTU, with fault injection and request counters.
@main
struct HPSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hpsim",
        abstract: "Simulate Modbus heat pumps (IDM, NIBE, Luxtronik, Daikin, test matrix) over TCP and RTU.",
        discussion: """
        Endpoints:
          --tcp PROFILE:PORT[:UNITS]     e.g. idm:1502, nibe:0:1-3 (port 0 = pick a free port),
                                         luxtronik:20000-20009:1 (a port range)
          --rtu PROFILE:DEVICE[:UNITS]   e.g. daikin:/dev/pts/7:1,2
        Profiles: idm, nibe, luxtronik, daikin, stiebel, matrix.
        On start a JSON line {"event":"ready",…} lists the ports. Control commands on stdin, one per line,
        each answered by a JSON line: stats | down PORT | up PORT | hang TARGET UNIT on|off |
        latency TARGET UNIT MS | exception TARGET UNIT TABLE ADDRESS CODE | absent TARGET UNIT POINT on|off |
        clear TARGET UNIT |
        get TARGET UNIT TABLE ADDRESS | set TARGET UNIT TABLE ADDRESS VALUE  (UNIT may be *).
        """
    )

    @Option(name: .customLong("tcp"), help: "A TCP endpoint: PROFILE:PORT[:UNITS].")
    var tcp: [String] = []

    @Option(name: .customLong("rtu"), help: "An RTU bus: PROFILE:DEVICE[:UNITS].")
    var rtu: [String] = []

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "RTU baud rate.") var baudrate = 9600
    @Option(help: "RTU parity N, E or O.") var parity = "N"
    @Option(help: "RTU data bits.") var databits = 8
    @Option(help: "RTU stop bits.") var stopbits = 1
    @Flag(help: "Delay RTU replies by the time the frames take at the baud rate.") var emulateLineTime = false

    @Option(help: "Seconds between value updates.") var tickInterval = 1.0
    @Option(help: "Write stats as JSON to this file every tick.") var statsFile: String?
    @Option(help: "Print a profile's points (address, type, order, words, value) as JSON and exit.") var dumpProfile: String?
    @Flag(help: "Exit when standard input closes (for test harnesses).") var exitOnEof = false
    @Option(help: "IDM heating circuits fitted, e.g. A,C (default A-G); the others answer Illegal Data Address.") var idmCircuits: String?
    @Option(help: "NIBE climate systems fitted, e.g. 1,2 (default 1-4); the others read NIBE's \"not available\" values.") var nibeSystems: String?
    @Option(help: "Luxtronik mixing circuits fitted, e.g. 1,3 (default 1; \"none\" for none); the others read 0x7FFF.") var luxtronikCircuits: String?
    @Option(help: "IDM zone modules fitted, e.g. 0,2 (default 0,1; \"none\" for none); the others answer Illegal Data Address.") var idmZones: String?

    /// The optional blocks the simulated controllers have (`--idm-circuits`, `--idm-zones`).
    func layout() throws -> SimLayout {
        var layout = SimLayout()
        if let idmCircuits {
            let letters = idmCircuits.uppercased().split(separator: ",").map(String.init)
            guard letters.allSatisfy(SimLayout.idmCircuitLetters.contains) else { throw ValidationError("--idm-circuits takes letters A-G, found \(idmCircuits)") }
            layout.idmCircuits = letters
        }
        if let idmZones {
            let zones = idmZones == "none" ? [] : try Self.numbers(idmZones, what: "zone")
            guard zones.allSatisfy((0...9).contains) else { throw ValidationError("--idm-zones takes zone modules 0-9, found \(idmZones)") }
            layout.idmZones = zones
        }
        if let nibeSystems {
            let systems = try Self.numbers(nibeSystems, what: "climate system")
            guard systems.allSatisfy((1...4).contains) else { throw ValidationError("--nibe-systems takes climate systems 1-4, found \(nibeSystems)") }
            layout.nibeSystems = systems
        }
        if let luxtronikCircuits {
            let circuits = luxtronikCircuits == "none" ? [] : try Self.numbers(luxtronikCircuits, what: "mixing circuit")
            guard circuits.allSatisfy((1...3).contains) else { throw ValidationError("--luxtronik-circuits takes mixing circuits 1-3, found \(luxtronikCircuits)") }
            layout.luxtronikCircuits = circuits
        }
        return layout
    }

    mutating func run() throws {
        SignalMask.unblockAll()
        if let name = dumpProfile {
            guard let profile = SimProfile.named(name, layout: try layout()) else { throw ValidationError("unknown profile \(name); known: \(SimProfile.names.joined(separator: ", "))") }
            Output.line(SimController.json(["profile": profile.name, "points": ProfileDump.points(profile)]))
            return
        }
        guard !tcp.isEmpty || !rtu.isEmpty else { throw ValidationError("give at least one --tcp or --rtu endpoint") }
        let controller = try SimController(gateways: makeGateways(), buses: makeBuses())
        for gateway in controller.gateways { try gateway.start() }
        for bus in controller.buses { try bus.start() }
        Output.line(SimController.json(controller.readyMessage()))

        let interval = tickInterval
        let statsPath = statsFile
        Thread.detachNewThread {
            while true {
                Thread.sleep(forTimeInterval: interval)
                controller.tick(at: Date().timeIntervalSince1970)
                if let statsPath {
                    let text = SimController.json(controller.stats())
                    let tmp = statsPath + ".tmp"
                    if FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) {
                        _ = try? FileManager.default.replaceItemAt(URL(fileURLWithPath: statsPath), withItemAt: URL(fileURLWithPath: tmp))
                    }
                }
            }
        }
        while let line = readLine() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            Output.line(SimController.json(controller.execute(trimmed)))
        }
        if exitOnEof { return }
        while true { Thread.sleep(forTimeInterval: 3600) }
    }

    private func makeGateways() throws -> [SimGateway] {
        var byPort: [Int: [Int: SimUnit]] = [:]
        var autoPorts: [[Int: SimUnit]] = []
        for spec in tcp {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, let profile = SimProfile.named(parts[0], layout: try layout()) else {
                throw ValidationError("bad --tcp \(spec): expected PROFILE:PORT[:UNITS] with PROFILE one of \(SimProfile.names.joined(separator: ", "))")
            }
            let ports = try Self.numbers(parts[1], what: "port")
            let unitIDs = parts.count > 2 ? try Self.numbers(parts[2], what: "unit") : [1]
            for port in ports {
                var units: [Int: SimUnit] = [:]
                for id in unitIDs { units[id] = try SimUnit(unitID: id, profile: profile, seed: port &* 31 &+ id) }
                if port == 0 {
                    autoPorts.append(units)
                } else {
                    byPort[port, default: [:]].merge(units) { _, new in new }
                }
            }
        }
        return byPort.keys.sorted().map { SimGateway(host: host, port: $0, units: byPort[$0] ?? [:]) }
            + autoPorts.map { SimGateway(host: host, port: 0, units: $0) }
    }

    private func makeBuses() throws -> [SimBus] {
        guard let parityChar = parity.uppercased().first, "NEO".contains(parityChar) else { throw ValidationError("parity must be N, E or O") }
        return try rtu.map { spec in
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, let profile = SimProfile.named(parts[0], layout: try layout()) else { throw ValidationError("bad --rtu \(spec): expected PROFILE:DEVICE[:UNITS]") }
            let unitIDs = parts.count > 2 ? try Self.numbers(parts[2], what: "unit") : [1]
            var units: [Int: SimUnit] = [:]
            for id in unitIDs { units[id] = try SimUnit(unitID: id, profile: profile, seed: id &* 131) }
            return SimBus(device: parts[1], baudrate: baudrate, parity: parityChar, dataBits: databits, stopBits: stopbits,
                          units: units, emulateLineTime: emulateLineTime)
        }
    }

    /// "5", "1-3", "1,4,7" or combinations.
    static func numbers(_ text: String, what: String) throws -> [Int] {
        var result: [Int] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-").map { Int($0) }
            if bounds.count == 1, let v = bounds[0] {
                result.append(v)
            } else if bounds.count == 2, let lo = bounds[0], let hi = bounds[1], lo <= hi {
                result.append(contentsOf: lo...hi)
            } else {
                throw ValidationError("bad \(what) list \"\(text)\"")
            }
        }
        return result
    }
}
