import Foundation
import ModbusKit

/// One simulated heat pump (one unit id): its register tables, physics and faults.
///
/// `@unchecked Sendable`: the mapping, faults and counters are only touched while holding `lock`.
final class SimUnit: @unchecked Sendable {
    let unitID: Int
    let profile: SimProfile
    private let mapping: ModbusMapping
    private let physics: SimPhysics
    private let lock = NSLock()
    private var faults = SimFaults()
    private var requestsByFunction: [Int: Int] = [:]

    init(unitID: Int, profile: SimProfile, seed: Int) throws {
        self.unitID = unitID
        self.profile = profile
        physics = SimPhysics(seed: seed)
        mapping = try ModbusMapping(
            bits: profile.windows[.coil] ?? 0..<0,
            inputBits: profile.windows[.discrete] ?? 0..<0,
            holding: profile.windows[.holding] ?? 0..<0,
            input: profile.windows[.input] ?? 0..<0
        )
        lock.withLock { write(at: Date().timeIntervalSince1970, includeConstants: true) }
    }

    /// Advances dynamic points to time `t` (constants stay as written, so client writes stick).
    func tick(at t: Double) {
        lock.withLock { write(at: t, includeConstants: false) }
    }

    private func write(at t: Double, includeConstants: Bool) {
        for point in profile.points where includeConstants || !point.dynamics.isConstant {
            let raw = point.raw(physics.value(point.dynamics, at: t))
            switch point.table {
            case .coil: mapping.setCoil(point.address, raw.integer != 0)
            case .discrete: mapping.setDiscrete(point.address, raw.integer != 0)
            case .holding, .input:
                let words = SimEncoder.words(raw, type: point.type, order: point.order)
                for (i, word) in words.enumerated() {
                    if point.table == .holding { mapping.setHolding(point.address + i, word) } else { mapping.setInput(point.address + i, word) }
                }
            }
        }
    }

    func updateFaults(_ change: (inout SimFaults) -> Void) {
        lock.withLock { change(&faults) }
    }

    var currentFaults: SimFaults { lock.withLock { faults } }

    /// Counts a request and returns the faults in force for it.
    func account(function: Int) -> SimFaults {
        lock.withLock {
            requestsByFunction[function, default: 0] += 1
            return faults
        }
    }

    func stats() -> [String: Int] {
        lock.withLock { Dictionary(uniqueKeysWithValues: requestsByFunction.map { (String($0.key), $0.value) }) }
    }

    /// Runs `body` with the mapping locked (libmodbus reads/writes it while replying).
    func withMapping<T>(_ body: (ModbusMapping) throws -> T) rethrows -> T {
        try lock.withLock { try body(mapping) }
    }

    func word(table: SimTable, address: Int) -> Int? {
        lock.withLock {
            switch table {
            case .holding: mapping.holding(address).map(Int.init)
            case .input: mapping.input(address).map(Int.init)
            case .coil: mapping.coil(address).map { $0 ? 1 : 0 }
            case .discrete: nil
            }
        }
    }

    func setWord(table: SimTable, address: Int, value: Int) {
        lock.withLock {
            switch table {
            case .holding: mapping.setHolding(address, UInt16(truncatingIfNeeded: value))
            case .input: mapping.setInput(address, UInt16(truncatingIfNeeded: value))
            case .coil: mapping.setCoil(address, value != 0)
            case .discrete: mapping.setDiscrete(address, value != 0)
            }
        }
    }
}
