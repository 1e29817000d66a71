import DeviceActor
import Testing

/// The flash-wear budget as a pure decision, and the shared ledger that holds it.
@Suite("EEPROM write budget", .harnessThreads)
struct EEPROMBudgetTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var history: [Double]
        var now: Double
        var allowed: Bool
        var fragment = ""
    }

    static let budget = EEPROMBudget(minInterval: 600, dailyCap: 3)
    static let cases: [Case] = [
        Case(description: "first write", history: [], now: 1000, allowed: true),
        Case(description: "within the interval", history: [1000], now: 1599, allowed: false, fragment: "one EEPROM write per 10 min (last 9 min 59 s ago); next write possible in 1 s"),
        Case(description: "exactly one interval later", history: [1000], now: 1600, allowed: true),
        Case(description: "cap reached within 24 h", history: [0, 1000, 2000], now: 80_000, allowed: false, fragment: "daily cap of 3 EEPROM writes reached; next write possible in 1 h 46 min"),
        Case(description: "the oldest write left the 24 h window", history: [0, 1000, 2000], now: 86_400, allowed: true),
        Case(description: "future stamps (clock stepped back) are ignored", history: [90_000], now: 1000, allowed: true),
    ]

    @Test("interval and rolling daily cap", arguments: cases)
    func decide(_ c: Case) {
        let decision = Self.budget.decide(history: c.history, now: c.now)
        if c.allowed {
            #expect(decision == .allowed)
        } else if case .refused(let message, let wait) = decision {
            #expect(message == c.fragment)
            #expect(wait > 0)
        } else {
            Issue.record("\(c) was allowed")
        }
    }

    @Test("the ledger counts pending slots, gives released slots back, keeps keys apart, and starts from stored history")
    func ledger() throws {
        let key = WriteLedger.Key(heatpumpID: "a", register: "setpoint")
        let ledger = WriteLedger(budget: Self.budget, history: [.init(heatpumpID: "a", register: "setpoint", at: 100)])
        #expect(throws: DeviceOperationError.self) { try ledger.reserve(key, now: 200) }
        let slot = try ledger.reserve(key, now: 800)
        #expect(throws: DeviceOperationError.self, "pending slot counts") { try ledger.reserve(key, now: 801) }
        ledger.release(key, slot: slot)
        _ = try ledger.reserve(key, now: 801)
        _ = try ledger.reserve(WriteLedger.Key(heatpumpID: "b", register: "setpoint"), now: 801)
        do {
            _ = try ledger.reserve(key, now: 900)
        } catch let error as DeviceOperationError {
            #expect(error.code == .eepromBudget && error.code.rawValue == "eeprom_budget")
            #expect(error.message.hasPrefix("setpoint is stored in EEPROM: one EEPROM write per 10 min"))
        }
        #expect(ledger.history(key, now: 1000) == [100, 801])
    }
}
