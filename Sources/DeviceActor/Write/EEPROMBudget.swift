import HPCore

/// The flash-wear budget of one EEPROM register: a least interval between writes and a cap per
/// rolling 24 hours. A pure decision over the register's write times, so it is testable without a device.
public struct EEPROMBudget: Sendable, Hashable {
    public static let window = 86400.0

    public var minInterval: Double
    public var dailyCap: Int

    public init(minInterval: Double = WriteSettings().eepromMinInterval, dailyCap: Int = WriteSettings().eepromDailyCap) {
        self.minInterval = minInterval
        self.dailyCap = dailyCap
    }

    public init(_ settings: WriteSettings) {
        self.init(minInterval: settings.eepromMinInterval, dailyCap: settings.eepromDailyCap)
    }

    public enum Decision: Sendable, Hashable {
        case allowed
        /// Why, and how many seconds until the next write fits the budget.
        case refused(String, retryAfter: Double)
    }

    /// Whether one more write at `now` fits, given the register's earlier writes (any order).
    public func decide(history: [Double], now: Double) -> Decision {
        let recent = history.filter { $0 > now - Self.window && $0 <= now }.sorted()
        if recent.count >= dailyCap, let oldest = recent.first {
            let wait = oldest + Self.window - now
            return .refused("daily cap of \(dailyCap) EEPROM writes reached; next write possible in \(Self.text(wait))", retryAfter: wait)
        }
        if let last = recent.last, now - last < minInterval {
            let wait = last + minInterval - now
            return .refused("one EEPROM write per \(Self.text(minInterval)) (last \(Self.text(now - last)) ago); next write possible in \(Self.text(wait))",
                            retryAfter: wait)
        }
        return .allowed
    }

    /// `42 s`, `9 min 30 s`, `3 h 5 min`: an operator reads this, not a parser.
    static func text(_ seconds: Double) -> String {
        let s = Int(max(0, seconds).rounded(.up))
        if s < 60 { return "\(s) s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60) min" : "\(s / 60) min \(s % 60) s" }
        return "\(s / 3600) h \(s % 3600 / 60) min"
    }
}
