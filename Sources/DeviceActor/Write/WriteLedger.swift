import Synchronization

/// The EEPROM write history of every device, shared by all device actors and persisted through
/// `persist` (the daemon wires it to SQLite and loads `history` at start, so a restart keeps the budget).
///
/// A slot is taken synchronously (`reserve`), before the write's first `await`: two concurrent writes
/// can never both pass the check. A write that did not reach the device gives its slot back.
public final class WriteLedger: Sendable {
    public struct Key: Sendable, Hashable {
        public var heatpumpID: String
        public var register: String

        public init(heatpumpID: String, register: String) {
            self.heatpumpID = heatpumpID
            self.register = register
        }
    }

    /// One EEPROM write that reached a device.
    public struct Record: Sendable, Hashable {
        public var heatpumpID: String
        public var register: String
        public var at: Double

        public init(heatpumpID: String, register: String, at: Double) {
            self.heatpumpID = heatpumpID
            self.register = register
            self.at = at
        }
    }

    public let budget: EEPROMBudget
    private let writes: Mutex<[Key: [Double]]>
    private let persist: (@Sendable (Record) async throws -> Void)?

    public init(budget: EEPROMBudget, history: [Record] = [], persist: (@Sendable (Record) async throws -> Void)? = nil) {
        self.budget = budget
        self.persist = persist
        var byKey: [Key: [Double]] = [:]
        for r in history { byKey[Key(heatpumpID: r.heatpumpID, register: r.register), default: []].append(r.at) }
        writes = Mutex(byKey)
    }

    /// Takes a slot at `now` or throws `eeprom_budget` with the reason; pending slots count.
    public func reserve(_ key: Key, now: Double) throws -> Double {
        let decision = writes.withLock { all -> EEPROMBudget.Decision in
            // Older than the window: no longer part of any decision.
            let kept = (all[key] ?? []).filter { $0 > now - EEPROMBudget.window }
            let decision = budget.decide(history: kept, now: now)
            all[key] = decision == .allowed ? kept + [now] : kept
            return decision
        }
        if case .refused(let reason, _) = decision {
            throw DeviceOperationError(.eepromBudget, "\(key.register) is stored in EEPROM: \(reason)")
        }
        return now
    }

    /// Gives a slot back: nothing was written (device error, or the value was already set).
    public func release(_ key: Key, slot: Double) {
        writes.withLock { all in
            if let index = all[key]?.firstIndex(of: slot) { all[key]?.remove(at: index) }
        }
    }

    /// Makes a used slot durable; throws when it could not be stored (the slot stays counted in memory).
    public func commit(_ key: Key, slot: Double) async throws {
        try await persist?(Record(heatpumpID: key.heatpumpID, register: key.register, at: slot))
    }

    /// Write times of `key` within the last 24 hours before `now`.
    public func history(_ key: Key, now: Double) -> [Double] {
        writes.withLock { ($0[key] ?? []).filter { $0 > now - EEPROMBudget.window } }
    }
}
