import Foundation

/// One reason a poll scores high, with what an operator needs to judge it.
public struct AnomalyContribution: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Outside its usual range in this band.
        case outOfRange(value: Double, usual: ClosedRange<Double>, band: String)
        /// The same value for `polls` polls; it usually changes in `share` of polls.
        case stuck(value: Double, polls: Int, share: Double)
        /// Short-cycling compressor: starts in the past hour, the limit, the median run time.
        case cycling(startsPerHour: Int, limit: Double, medianRunSeconds: Double?)
        /// A defrost running for `seconds`, longer than `limit`.
        case defrost(seconds: Double, limit: Double)
    }

    /// The register (or `compressor`, `defrost`).
    public var register: String
    public var unit: String
    /// 0–1.
    public var score: Double
    public var kind: Kind

    public init(register: String, unit: String, score: Double, kind: Kind) {
        self.register = register
        self.unit = unit
        self.score = score
        self.kind = kind
    }

    /// "flow_rate 8.1 l/min, usual 14.0–15.2 at 0–5 °C outdoor".
    public var text: String {
        let u = unit.isEmpty ? "" : " \(unit)"
        switch kind {
        case .outOfRange(let value, let usual, let band):
            return "\(register) \(Self.number(value))\(u), usual \(Self.number(usual.lowerBound))–\(Self.number(usual.upperBound)) at \(band)"
        case .stuck(let value, let polls, let share):
            return "\(register) stuck at \(Self.number(value))\(u) for \(polls) polls (usually changes in \(Int((share * 100).rounded())) % of polls)"
        case .cycling(let starts, let limit, let median):
            let run = median.map { String(format: ", median run %.1f min", $0 / 60) } ?? ""
            return "compressor \(starts) starts/h, usual ≤ \(Self.number(limit))\(run)"
        case .defrost(let seconds, let limit):
            return "defrost running for \(Self.duration(seconds)), usual ≤ \(Self.duration(limit))"
        }
    }

    static func number(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Whole minutes, or seconds below two minutes.
    static func duration(_ seconds: Double) -> String {
        seconds < 120 ? "\(Int(seconds.rounded())) s" : "\(Int((seconds / 60).rounded())) min"
    }

    /// Display form of a register unit ("celsius" → "°C").
    public static func displayUnit(_ unit: String) -> String {
        switch unit.lowercased() {
        case "celsius", "c", "°c": "°C"
        case "percent": "%"
        case "enum", "bitmap": ""
        default: unit
        }
    }
}
