import Foundation

/// Heat and electricity summed per calendar period (day, month, heating season from 1 July) in
/// one time zone, for SCOP. A period's sums start over when the period changes.
struct EnergyPeriods: Sendable {
    struct Sums: Sendable, Equatable {
        var key: Int
        var heat = 0.0
        var electrical = 0.0
    }

    /// Below this electricity (kWh) in a period its SCOP is not reported (too noisy to mean anything).
    static let minimumElectricalKWh = 0.1

    private var calendar: Calendar
    private(set) var sums: [String: Sums] = [:]

    init(timeZone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// The sums to save.
    func saved(use: String? = nil) -> [DerivedState.PeriodSums] {
        sums.sorted { $0.key < $1.key }.map {
            DerivedState.PeriodSums(use: use, period: $0.key, key: $0.value.key, heat: $0.value.heat, electrical: $0.value.electrical)
        }
    }

    /// Continues from saved sums; a period that has ended since is dropped when the next energy arrives.
    mutating func restore(_ saved: [DerivedState.PeriodSums]) {
        for p in saved { sums[p.period] = Sums(key: p.key, heat: p.heat, electrical: p.electrical) }
    }

    /// The period keys of a moment: day (yyyymmdd), month (yyyymm), season (year it began on 1 July).
    func keys(at time: Double) -> [String: Int] {
        let c = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: time))
        let year = c.year ?? 0, month = c.month ?? 0, day = c.day ?? 0
        return ["day": year * 10000 + month * 100 + day, "month": year * 100 + month, "season": month >= 7 ? year : year - 1]
    }

    /// Adds energy that accrued up to `time` to that moment's periods.
    mutating func add(heat: Double, electrical: Double, at time: Double) {
        for (period, key) in keys(at: time) {
            var s = sums[period].flatMap { $0.key == key ? $0 : nil } ?? Sums(key: key)
            s.heat += heat
            s.electrical += electrical
            sums[period] = s
        }
    }

    /// Heat ÷ electricity of the period containing `time`, or nil before enough electricity was used.
    func scop(_ period: String, at time: Double) -> Double? {
        guard let s = sums[period], s.key == keys(at: time)[period], s.electrical >= Self.minimumElectricalKWh else { return nil }
        return s.heat / s.electrical
    }
}
