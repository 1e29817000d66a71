/// Streaming robust location and spread per (register, band), in flat arrays (no allocation per poll).
///
/// Location `c` and spread `s` (mean absolute deviation) follow each value with weight
/// α = max(1/n, dt/τ): a running mean while a band is young, then an exponentially weighted average
/// with time constant τ. After the first `minSamples` values (the band's own warm-up; it scores from then) the residual is clipped at ±3 s (Huber),
/// so a fault or an outlier moves the baseline by at most 3 α s per poll: a streaming stand-in for a
/// median and MAD that is not dragged along by the anomaly it should flag.
public struct RobustBaseline: Sendable {
    public let bands: Int
    public let minSamples: Int
    /// Smallest spread used: `absoluteFloor`, or `relativeFloor` × |c| if larger (a constant register
    /// has s = 0, and its first change must not score infinity).
    public var absoluteFloor = 0.05
    public var relativeFloor = 0.01
    var center: [Float]
    var spread: [Float]
    var count: [Float]

    public init(registers: Int, bands: Int = AnomalyBucket.count, minSamples: Int = 360) {
        self.bands = bands
        self.minSamples = minSamples
        center = Array(repeating: 0, count: registers * bands)
        spread = center
        count = center
    }

    @inline(__always) func index(_ register: Int, _ band: Int) -> Int { register * bands + band }

    /// Samples seen in a band (capped: the weight then is dt/τ anyway).
    public func samples(_ register: Int, _ band: Int) -> Int { Int(count[index(register, band)]) }

    public func location(_ register: Int, _ band: Int) -> Double { Double(center[index(register, band)]) }

    /// The spread used for scoring, floored.
    public func scale(_ register: Int, _ band: Int) -> Double {
        let i = index(register, band)
        return max(Double(spread[i]), absoluteFloor, relativeFloor * abs(Double(center[i])))
    }

    /// |x − c| in units of the floored spread × 1.25 (≈ σ for normal noise); nil while the band is young.
    public func deviation(_ register: Int, _ band: Int, _ x: Double) -> Double? {
        let i = index(register, band)
        guard count[i] >= Float(minSamples) else { return nil }
        return abs(x - Double(center[i])) / (1.25 * scale(register, band))
    }

    /// The usual range, c ± `sigmas` × 1.25 s.
    public func usualRange(_ register: Int, _ band: Int, sigmas: Double = 2) -> ClosedRange<Double> {
        let c = location(register, band), half = sigmas * 1.25 * scale(register, band)
        return (c - half)...(c + half)
    }

    /// Learns `x`; `minimumWeight` is dt/τ of this poll.
    public mutating func learn(_ register: Int, _ band: Int, _ x: Double, minimumWeight: Double) {
        let i = index(register, band)
        let n = count[i] + 1
        if n < 1e7 { count[i] = n }
        let c = Double(center[i]), s = Double(spread[i])
        guard n > 1 else {
            center[i] = Float(x)
            spread[i] = 0
            return
        }
        let alpha = max(1 / Double(n), min(1, minimumWeight))
        let r = x - c
        if n <= Float(minSamples) {
            center[i] = Float(c + alpha * r)
            spread[i] = Float(s + alpha * (abs(r) - s))
        } else {
            let limit = 3 * max(s, absoluteFloor, relativeFloor * abs(c))
            center[i] = Float(c + alpha * max(-limit, min(limit, r)))
            spread[i] = Float(s + alpha * (min(abs(r), limit) - s))
        }
    }
}
