import DeviceActor
import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// Every data type × byte order × scale/offset/sentinel, read over real TCP (and RTU) from hpsim and
/// compared with the simulator's own value table.
@Suite("Decode matrix against hpsim", .harnessThreads, .serialized)
struct DecodeMatrixTests {
    struct Expectation {
        var register: RegisterDefinition
        var expected: SampleValue?
    }

    static func expectations(_ points: [ProfilePoint]) -> [Expectation] {
        var result: [Expectation] = []
        for (p, r) in zip(points, Fixtures.matrixRegisters(points)) {
            guard !p.name.hasPrefix("sentinel") else { continue }
            let exact: SampleValue? = switch r.dataType {
            case .float16, .float32, .float64: Double(p.value).map { .double($0) }
            case .string: .string(p.value)
            case .uint64: UInt64(p.value).map { .uint($0) }
            case .bool: .bool(p.value != "0")
            default: Int64(p.value).map { .int($0) }
            }
            result.append(Expectation(register: r, expected: exact))
            guard r.dataType != .bool, r.dataType != .uint64, r.dataType != .string, let raw = exact?.doubleValue else { continue }
            var scaled = r
            scaled.name += "_scaled"
            scaled.scale = 0.5
            scaled.offset = 10
            result.append(Expectation(register: scaled, expected: .double(raw * 0.5 + 10)))
        }
        // `bit: n` on the bit-field points: each of the 16 bits of the byte-order adjusted word.
        for p in points where p.name.hasPrefix("bits_") {
            guard let word = UInt16(p.value), let order = ByteOrder(configName: p.order) else { continue }
            for bit in 0..<16 {
                var r = RegisterDefinition(name: "\(p.name)_\(bit)", address: p.address, dataType: .uint16, byteOrder: order)
                r.bit = bit
                result.append(Expectation(register: r, expected: .bool(word >> bit & 1 == 1)))
            }
        }
        // Sentinels: both spellings of 0x8000, 65535 as -1, 0x7FFF; and a non-matching sentinel list.
        func sentinel(_ name: String, _ address: Int, _ type: DataType, _ unavailable: [Int64], _ expected: SampleValue?) -> Expectation {
            Expectation(register: RegisterDefinition(name: name, address: address, dataType: type, unavailable: unavailable), expected: expected)
        }
        result += [
            sentinel("na_8000_pos", 210, .int16, [32768], nil),
            sentinel("na_8000_neg", 210, .int16, [-32768], nil),
            sentinel("na_8000_unsigned", 210, .uint16, [-32768], nil),
            sentinel("na_ffff", 211, .uint16, [-1], nil),
            sentinel("na_7fff", 212, .int16, [32765, 32766, 32767], nil),
            sentinel("not_na_100", 213, .int16, [32765, 32766, 32767], .int(100)),
            sentinel("raw_8000", 210, .int16, [], .int(-32768)),
        ]
        return result
    }

    static func poll(_ link: ModbusLink, unit: Int, registers: [RegisterDefinition], timeout: Double = 2) async throws -> PollOutcome {
        let plan = ReadPlanner().plan(registers)
        let executor = PollExecutor(unitID: unit, timeout: timeout, registers: registers)
        return try await executor.execute(plan, on: link)
    }

    static func check(_ outcome: PollOutcome, _ expectations: [Expectation]) {
        #expect(outcome.failure == nil, "\(String(describing: outcome.failure))")
        let byIndex = Dictionary(uniqueKeysWithValues: outcome.samples.map { ($0.register, $0.value) })
        for (index, e) in expectations.enumerated() {
            let got = byIndex[index]
            switch (e.expected, got) {
            case (.double(let want)?, .double(let have)?):
                #expect(abs(want - have) <= abs(want) * 1e-6, "\(e.register.name): \(have) != \(want)")
            default:
                #expect(got == e.expected, "\(e.register.name) (\(e.register.dataType.rawValue) \(e.register.byteOrder.rawValue))")
            }
        }
    }

    @Test("TCP: all types and byte orders, two unit ids on one gateway")
    func tcp() async throws {
        let points = try SimulatorProcess.dumpProfile("matrix")
        let expectations = Self.expectations(points)
        #expect(expectations.count > 60)
        for type in [DataType.string, .float16] { #expect(expectations.filter { $0.register.dataType == type }.count >= 6, "\(type) covered") }
        #expect(expectations.filter { $0.register.bit != nil }.count == 32)
        let sim = try SimulatorProcess(["--tcp", "matrix:0:1,2"])
        let link = ModbusLink(endpoint: .tcp(host: "127.0.0.1", port: sim.ports[0]), loop: Fixtures.loops.next())
        defer { link.close() }
        for unit in [1, 2] {
            Self.check(try await Self.poll(link, unit: unit, registers: expectations.map(\.register)), expectations)
        }
        let stats = try sim.portStats(sim.ports[0])
        #expect(stats.connectionsAccepted == 1, "both units share the link's one connection")
        #expect(Set(stats.requestsByFunction.keys) == [1, 2, 3, 4])
    }

    @Test("RTU over a pseudo-terminal pair: same values, several units on one bus")
    func rtu() async throws {
        let pty = try PtyPair()
        defer { pty.stop() }
        let points = try SimulatorProcess.dumpProfile("matrix")
        let expectations = Self.expectations(points)
        let sim = try SimulatorProcess(["--rtu", "matrix:\(pty.first):1,2", "--baudrate", "19200", "--parity", "E"])
        let serial = SerialSettings(device: pty.second, baudrate: 19200, bytesize: 8, parity: "E", stopbits: 1)
        let link = ModbusLink(endpoint: .rtu(serial), loop: Fixtures.loops.next())
        defer { link.close() }
        for unit in [1, 2] {
            Self.check(try await Self.poll(link, unit: unit, registers: expectations.map(\.register)), expectations)
        }
        let stats = try sim.busStats(pty.first)
        #expect(stats.requestsTotal >= 2 * ReadPlanner().plan(expectations.map(\.register)).count)
        // A unit that is not on the bus stays silent: the poll times out instead of returning data.
        let silent = try await Self.poll(link, unit: 9, registers: [RegisterDefinition(name: "x", address: 0)], timeout: 0.5)
        #expect(silent.failure?.isTimeout == true)
    }
}
