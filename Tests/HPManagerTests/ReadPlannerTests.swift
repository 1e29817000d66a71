import Drivers
import HPCore
import Testing

@Suite("Read-group planning", .harnessThreads)
struct ReadPlannerTests {
    func reg(_ address: Int, _ type: DataType = .int16, _ table: RegisterType = .holding) -> RegisterDefinition {
        RegisterDefinition(name: "r\(address)\(table.rawValue)", address: address, registerType: table, dataType: type)
    }

    @Test("merges within max gap, splits beyond it")
    func gaps() {
        let planner = ReadPlanner(maxGap: 4)
        let plan = planner.plan([reg(0), reg(5), reg(10), reg(20)])
        #expect(plan.map { [$0.address, $0.count] } == [[0, 11], [20, 1]])
    }

    @Test("never exceeds 125 registers per request")
    func limit() {
        let registers = (0..<300).map { reg($0) }
        let plan = ReadPlanner(maxGap: 0).plan(registers)
        #expect(plan.map(\.count) == [125, 125, 50])
        #expect(plan.allSatisfy { $0.count <= 125 })
    }

    @Test("tables and function codes are planned separately")
    func tables() {
        let plan = ReadPlanner().plan([reg(0), reg(1, .int16, .input), reg(0, .bool, .coil), reg(1999, .bool, .coil), reg(0, .bool, .discrete)])
        #expect(plan.map(\.functionCode).sorted() == [1, 1, 2, 3, 4])
        #expect(ReadPlanner(maxGap: 2000).plan([reg(0, .bool, .coil), reg(1999, .bool, .coil)]).count == 1, "up to 2000 bits per request")
    }

    @Test("multi-register values are covered whole and overlaps are merged")
    func spans() {
        let plan = ReadPlanner(maxGap: 0).plan([reg(0, .float32), reg(2, .float64), reg(6), reg(6)])
        #expect(plan.map { [$0.address, $0.count] } == [[0, 7]])
    }

    @Test("quarantined addresses are never bridged")
    func holes() {
        let registers = [reg(0), reg(1), reg(2)]
        let plan = ReadPlanner(maxGap: 8).plan(registers, excluded: [1], forbidden: [.holding: [1]])
        #expect(plan.map { [$0.address, $0.count] } == [[0, 1], [2, 1]])
    }

    @Test("greedy plan is minimal: matches a brute-force optimum on random maps", arguments: 1...20)
    func minimal(seed: Int) {
        var rng = SplitMix64(seed: UInt64(seed))
        let addresses = Set((0..<12).map { _ in Int(rng.next() % 200) }).sorted()
        let registers = addresses.map { reg($0) }
        let planner = ReadPlanner(maxGap: 10, maxRegisters: 30)
        #expect(planner.plan(registers).count == Self.optimum(addresses, maxGap: 10, maxLength: 30))
    }

    /// Fewest contiguous runs of the sorted addresses with every gap ≤ maxGap and span ≤ maxLength (DP).
    static func optimum(_ a: [Int], maxGap: Int, maxLength: Int) -> Int {
        var best = [Int](repeating: .max, count: a.count + 1)
        best[0] = 0
        for end in 1...a.count {
            for start in stride(from: end - 1, through: 0, by: -1) {
                if start < end - 1 && a[start + 1] - a[start] - 1 > maxGap { break }
                if a[end - 1] - a[start] + 1 > maxLength { break }
                if best[start] != .max { best[end] = min(best[end], best[start] + 1) }
            }
        }
        return best[a.count]
    }
}
