import Foundation
import ModbusKit

/// One simulated heat pump (one unit id): its register tables, physics and faults.
///
/// `@unchecked Sendable`: the mapping, physics, faults, absent points and counters are only touched while holding `lock`.
final class SimUnit: @unchecked Sendable {
    let unitID: Int
    let profile: SimProfile
    private let mapping: ModbusMapping
    private var physics: SimPhysics
    private let lock = NSLock()
    private var faults = SimFaults()
    private var requestsByFunction: [Int: Int] = [:]
    /// Requests refused because they covered an address the profile does not implement.
    private var refusedUnimplemented = 0
    /// Points currently serving their "not available" value (`absent NAME on`).
    private var absentPoints: Set<String> = []
    /// Points holding the value they had when frozen (`freeze NAME on`): a stuck sensor.
    private var frozenPoints: Set<String> = []

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
        for point in profile.points where (includeConstants || !point.dynamics.isConstant) && !frozenPoints.contains(point.name) {
            store(point, at: t)
        }
    }

    /// Writes one point's current raw value (or its "not available" value) into the tables; caller holds `lock`.
    private func store(_ point: SimPoint, at t: Double) {
        let absent = absentPoints.contains(point.name) ? point.absent : nil
        let raw = absent ?? point.raw(physics.value(point.dynamics, at: t))
        switch point.table {
        case .coil: mapping.setCoil(point.address, raw.integer != 0)
        case .discrete: mapping.setDiscrete(point.address, raw.integer != 0)
        case .holding, .input:
            let words = SimEncoder.words(raw, type: point.type, order: point.order, length: point.length)
            for (i, word) in words.enumerated() {
                if point.table == .holding { mapping.setHolding(point.address + i, word) } else { mapping.setInput(point.address + i, word) }
            }
        }
    }

    /// Makes point `name` serve its "not available" value (or its normal value again).
    /// Returns false when the profile has no such point or the point has no such value.
    func setAbsent(_ name: String, _ on: Bool) -> Bool {
        lock.withLock {
            guard let point = profile.points.first(where: { $0.name == name }), point.absent != nil else { return false }
            if on { absentPoints.insert(name) } else { absentPoints.remove(name) }
            store(point, at: Date().timeIntervalSince1970)
            return true
        }
    }

    /// Makes point `name` keep its current value (a stuck sensor), or follow its dynamics again.
    /// Returns false when the profile has no such point.
    func setFrozen(_ name: String, _ on: Bool) -> Bool {
        lock.withLock {
            guard profile.points.contains(where: { $0.name == name }) else { return false }
            if on { frozenPoints.insert(name) } else { frozenPoints.remove(name) }
            return true
        }
    }

    /// Answers a request from the tables. For profiles with write-through inputs (IDM), holding
    /// requests are checked per address (reads of the holding table and writes to read-only
    /// addresses get Illegal Data Address) and an accepted write is copied to the input table.
    func reply(_ request: SimRequest, frame: ArraySlice<UInt8>, session: ModbusServerSession) throws {
        try lock.withLock {
            if let table = request.table, let implemented = profile.implemented[table], !request.range.allSatisfy(implemented.contains) {
                refusedUnimplemented += 1
                try session.replyException(frame, code: 2)
                return
            }
            if !profile.absentAddresses.isEmpty, request.table == .holding || request.table == .input,
               request.range.contains(where: profile.absentAddresses.contains) {
                try session.replyException(frame, code: 2)
                return
            }
            if request.table == .holding, !profile.acceptsHolding(function: request.function, range: request.range) {
                try session.replyException(frame, code: 2)
                return
            }
            try session.reply(frame, mapping: mapping)
            guard request.function == 6 || request.function == 16 else { return }
            for address in request.range where profile.inputWriteAddresses.contains(address) {
                if let word = mapping.holding(address) { mapping.setInput(address, word) }
            }
        }
    }

    /// Holds the compressor on or off (nil: back to its cycle); every point that follows it is rewritten now.
    func forceCompressor(_ on: Bool?) {
        lock.withLock {
            physics.forcedCompressor = on
            write(at: Date().timeIntervalSince1970, includeConstants: false)
        }
    }

    /// Starts or ends a defrost (it shows while the compressor runs); every point that follows it is rewritten now.
    func setDefrost(_ on: Bool) {
        lock.withLock {
            physics.defrosting = on
            write(at: Date().timeIntervalSince1970, includeConstants: false)
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
        lock.withLock {
            var stats = Dictionary(uniqueKeysWithValues: requestsByFunction.map { (String($0.key), $0.value) })
            if !profile.implemented.isEmpty { stats["refused_unimplemented"] = refusedUnimplemented }
            return stats
        }
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
