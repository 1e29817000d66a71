/// Stuck sensors: how many polls in a row a register repeated its value, against how often it
/// usually changes (flat arrays, no allocation per poll).
///
/// A register that changes in a share p of polls repeats L polls in a row with probability about
/// (1 − p)^L; L = 14 / p makes that about 10⁻⁶. Registers also hold still for reasons of state
/// (electrical power while the compressor is off), so the longest run it showed while not stuck
/// counts too: a register is stuck after max(`minPolls`, 14 / p, 2 × longest usual run) repeats,
/// and only if it normally varies (p ≥ 5 %, learnt over at least `minPolls` polls).
public struct StuckTracker: Sendable {
    public let minPolls: Int
    /// Share of polls below which a register "rarely changes" and is never called stuck.
    public static let minChangeShare = 0.05
    var last: [Double]
    var run: [Int32]
    var changeShare: [Float]
    var seen: [Float]
    /// Longest run of repeats that ended below the stuck limit (learnt "usual stillness").
    var longest: [Float]

    public init(registers: Int, minPolls: Int) {
        self.minPolls = max(3, minPolls)
        last = Array(repeating: .nan, count: registers)
        run = Array(repeating: 0, count: registers)
        changeShare = Array(repeating: 0, count: registers)
        seen = changeShare
        longest = changeShare
    }

    /// Records one value; returns the polls in a row it has now repeated. While `learning` (the
    /// detector's warm-up) every run that ends is usual stillness; afterwards only runs that ended
    /// below the stuck limit are (a stuck episode teaches nothing).
    @discardableResult
    public mutating func observe(_ register: Int, _ x: Double, learning: Bool = false) -> Int {
        let previous = last[register]
        guard !previous.isNaN else {
            last[register] = x
            return 0
        }
        let changed = x != previous
        if changed {
            let ended = Float(run[register])
            if ended > longest[register], learning || (limit(register).map { Int(ended) < $0 } ?? true) { longest[register] = ended }
            run[register] = 0
            last[register] = x
        } else if run[register] < Int32.max {
            run[register] += 1
        }
        let n = seen[register] + 1
        if n < 1e7 { seen[register] = n }
        // Running share while young, then a long average (about 2000 polls).
        let alpha = max(1 / n, 1 / 2000)
        changeShare[register] += alpha * ((changed ? 1 : 0) - changeShare[register])
        return Int(run[register])
    }

    public func repeats(_ register: Int) -> Int { Int(run[register]) }
    public func share(_ register: Int) -> Double { Double(changeShare[register]) }
    public func value(_ register: Int) -> Double { last[register] }
    public func longestUsualRun(_ register: Int) -> Int { Int(longest[register]) }

    /// Repeats after which the register counts as stuck; nil when it is not known to vary.
    public func limit(_ register: Int) -> Int? {
        let p = Double(changeShare[register])
        guard seen[register] >= Float(minPolls), p >= Self.minChangeShare else { return nil }
        return max(minPolls, Int((14 / p).rounded(.up)), 2 * Int(longest[register]))
    }

    /// 0 (changing) to 1 (repeated twice the limit); 0.5 at the limit.
    public func score(_ register: Int) -> Double {
        guard let limit = limit(register) else { return 0 }
        return min(1, Double(run[register]) / Double(2 * limit))
    }
}
