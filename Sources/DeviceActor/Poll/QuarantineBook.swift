import HPCore

/// Registers that answered Illegal Data Address, kept out of polls until a rare re-probe.
public struct QuarantineBook: Sendable {
    private var until: [Int: ContinuousClock.Instant] = [:]
    private var reported: Set<Int> = []

    public init() {}

    /// Quarantines `index` until `now + duration`; true the first time this register is ever rejected.
    public mutating func quarantine(_ index: Int, now: ContinuousClock.Instant, duration: Duration) -> Bool {
        until[index] = now + duration
        return reported.insert(index).inserted
    }

    /// A re-probed register answered again: back into normal polling.
    public mutating func release(_ index: Int) {
        until[index] = nil
    }

    /// Registers to leave out of a poll starting at `now` (expired entries are re-probed).
    public func excluded(at now: ContinuousClock.Instant) -> Set<Int> {
        Set(until.filter { $0.value > now }.keys)
    }

    public var all: [Int] { until.keys.sorted() }
    public var isEmpty: Bool { until.isEmpty }

    /// Addresses per table a read must not cover while `excluded` registers are out.
    public static func forbidden(_ excluded: Set<Int>, registers: [RegisterDefinition]) -> [RegisterType: Set<Int>] {
        var result: [RegisterType: Set<Int>] = [:]
        for index in excluded where registers.indices.contains(index) {
            let r = registers[index]
            result[r.registerType, default: []].formUnion(r.address..<(r.address + r.count))
        }
        return result
    }
}
