import ControlProtocol
import DeviceActor
import Drivers
import Foundation
import HPCore
import NIOCore
@testable import Supervisor
import Testing
import TestSupport

/// Control-socket lines (bytes as a client may send them) through the server's decoder and the
/// command layer's argument validation: every line gets one well-formed JSON reply, nothing traps.
@Suite("Fuzz: control protocol", .harnessThreads, .serialized)
struct ControlProtocolFuzzTests {
    static let seeds = [
        #"{"v":1,"id":"1","cmd":"ping"}"#, #"{"cmd":"list"}"#, #"{"cmd":"status","args":{"id":"hp1"}}"#,
        #"{"cmd":"read","args":{"id":"hp1","registers":["outdoor_temp","supply_temp"]}}"#,
        #"{"v":1,"id":"42","cmd":"write","args":{"id":"hp1","register":"room_setpoint","value":"21.5","client":"x"}}"#,
        #"{"cmd":"write","args":{"id":"hp1","register":"room_setpoint","value":21.5}}"#,
        #"{"cmd":"write","args":{"id":"hp1","register":"room_setpoint","clear":true}}"#, #"{"cmd":"wanted","args":{"id":"hp1"}}"#,
        #"{"cmd":"jobs","args":{"action":"add","id":"hp1","register":"room_setpoint","value":"21","days":"mon-fri","at":"06:00"}}"#,
        #"{"cmd":"jobs","args":{"action":"remove","job":1}}"#, #"{"cmd":"jobs","args":{"action":"list","id":"hp1"}}"#,
        #"{"cmd":"sg-ready","args":{"id":"hp1","state":"boost"}}"#, #"{"cmd":"pv-surplus","args":{"id":"hp1","kw":3.2,"production_kw":5}}"#,
        #"{"cmd":"enable","args":{"id":"hp1"}}"#, #"{"cmd":"disable","args":{"id":"hp1"}}"#, #"{"cmd":"remove","args":{"id":"hp9"}}"#,
        #"{"cmd":"add","args":{"device":{"id":"hp9","model":"nibe_s1155","modbus":{"host":"127.0.0.1","port":1}}}}"#,
        #"{"cmd":"update","args":{"id":"hp9","device":"id: hp9\nmodel: nibe_s1155\nmodbus: {host: 127.0.0.1, port: 1}"}}"#,
        #"{"cmd":"models"}"#, #"{"cmd":"alerts","args":{"id":"hp1","active":true}}"#, #"{"cmd":"events","args":{"since":3600}}"#,
        #"{"cmd":"history","args":{"id":"hp1","register":"outdoor_temp","since":86400}}"#, #"{"cmd":"reload"}"#,
        #"{"cmd":"nope","args":{"a":[1,2,{"b":null}],"c":-1e308,"d":"\u00e9\ud83d\ude00"}}"#,
    ]

    /// A command layer over a fleet with one device (pointing at a closed port) and no store.
    static func commands(_ dir: TemporaryDirectory) throws -> (ControlCommands, FleetControl) {
        try dir.write("heatpumps.yml", "heatpumps:\n  - {id: hp1, model: nibe_s1155, enabled: false, modbus: {host: 127.0.0.1, port: 1}}\n")
        let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])
        let config = try loader.load(directory: dir.path)
        let links = LinkRegistry(group: Fixtures.loops, throttle: ConnectThrottle(rate: 100, burst: 10))
        let logger = LogCapture().logger
        let intensity = RestartIntensity(maxRestarts: 1, window: .seconds(1), backoffInitial: .seconds(1), backoffMax: .seconds(1), failedCooldown: .seconds(1))
        let fleet = Fleet(links: links, sink: RecordingSink(), intensity: intensity, logger: logger)
        let control = FleetControl(initial: config, directory: dir.path, loader: loader, fleet: fleet, store: nil, metrics: nil, logger: logger)
        // Fleet changes are answered by the command loop (FleetService runs it in the daemon);
        // it ends with `control.shutdown()` at the end of each test.
        Task { await control.run() }
        return (ControlCommands(control: control, store: nil, links: links, version: "fuzz"), control)
    }

    @Test("mutated request lines: one JSON reply each, with ok and a code on errors")
    func requests() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-fuzz-control")
        let (commands, control) = try Self.commands(dir)
        let fuzz = FuzzRun("control", cases: 400)
        var cases: [(seed: UInt64, bytes: [UInt8])] = []
        await fuzz.run { rng, _ in cases.append((rng.next(), Mutator.mutate(Array(Mutator.pick(Self.seeds, &rng).utf8), &rng))) }
        for (index, c) in cases.enumerated() {
            let input = String(decoding: c.bytes, as: UTF8.self)
            fuzz.note(input, case: index)
            let decoded = ControlServer.decode(ByteBuffer(bytes: c.bytes))
            // `test` connects to whatever host the mutated spec names: the decoder is fuzzed, the command is not run.
            if case .request(let request) = decoded, request.cmd == "test" { continue }
            let response = await commands.handle(decoded)
            let line = response.line()
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["ok"] is Bool else {
                fuzz.fail("case \(index): reply is not a JSON object with ok: \(line)", seed: input)
                continue
            }
            if response.ok == false && (response.error?.code.isEmpty ?? true) { fuzz.fail("case \(index): error without code", seed: input) }
        }
        await control.shutdown()
    }

    @Test("device specs (YAML or JSON) for add/update/test: a device or invalid_device, never a trap")
    func deviceSpecs() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-fuzz-spec")
        let (_, control) = try Self.commands(dir)
        let seeds = [
            "id: hp9\nmodel: nibe_s1155\nmodbus: {host: 127.0.0.1, port: 1502, unit_id: 3, timeout: 0.5}\n",
            #"{"id":"hp9","model":"daikin_altherma","poll_interval":"250ms","modbus":{"type":"rtu","port":"/dev/ttyUSB0","baudrate":19200,"parity":"E"}}"#,
        ]
        let fuzz = FuzzRun("device-spec", cases: 400)
        var specs: [String] = []
        await fuzz.run { rng, _ in specs.append(String(decoding: Mutator.mutate(Array(Mutator.pick(seeds, &rng).utf8), &rng), as: UTF8.self)) }
        for (index, spec) in specs.enumerated() {
            fuzz.note(spec, case: index)
            do {
                let device = try control.validate(spec: spec)
                #expect(ConfigLimits.pollInterval.contains(device.pollInterval))
            } catch let error as ControlError {
                if error.code != "invalid_device" { fuzz.fail("code \(error.code)", seed: spec) }
            } catch {
                fuzz.fail("\(type(of: error)): \(error)", seed: spec)
            }
        }
        await control.shutdown()
    }

    @Test("deeply nested JSON arguments are answered, not a stack overflow", arguments: [1_000, 100_000])
    func deepNesting(_ depth: Int) async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-fuzz-deep")
        let (commands, control) = try Self.commands(dir)
        let line = #"{"cmd":"status","args":{"id":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}"
        let response = await commands.handle(ControlServer.decode(ByteBuffer(string: line)))
        #expect(response.ok == false)
        await control.shutdown()
    }
}
