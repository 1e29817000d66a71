/// Which registers the anomaly detector watches and how (`derived: anomaly:` of a model).
///
/// The baseline of each register is kept per outdoor-temperature band when `outdoorTemp` names a
/// register, else per time-of-day block. Compressor cycling and defrost length come from the
/// model's `compressor:` and `defrost:` sections when it has them.
public struct AnomalyInputs: Sendable, Hashable {
    /// Most registers one device's detector watches (bounds its memory and its stored state).
    public static let maxRegisters = 128

    /// The outdoor temperature register (°C) whose band selects the baseline; nil: time of day.
    public var outdoorTemp: String?
    /// Registers scored against their baseline and watched for a stuck value.
    public var registers: [String]
    /// Score (0–1) at or above which an alert is raised; it resolves below 70 % of it.
    public var threshold: Double
    /// Seconds after the detector's first poll before it may raise an alert (its baseline is learnt).
    public var warmupSeconds: Double
    /// Fewest identical polls in a row that count as a stuck sensor (more for registers that change rarely).
    public var stuckPolls: Int
    /// A defrost running longer than this (seconds) is abnormal.
    public var maxDefrostSeconds: Double

    public init(outdoorTemp: String? = nil, registers: [String], threshold: Double = 0.5, warmupSeconds: Double = 86_400,
                stuckPolls: Int = 30, maxDefrostSeconds: Double = 1_200) {
        self.outdoorTemp = outdoorTemp
        self.registers = registers
        self.threshold = threshold
        self.warmupSeconds = warmupSeconds
        self.stuckPolls = stuckPolls
        self.maxDefrostSeconds = maxDefrostSeconds
    }

    /// Registers watched when `registers:` is not given: read-only numeric gauges that are neither
    /// enumerations, bitmaps, booleans nor counters (a rising counter is never "usual"), and not
    /// setpoints (an operator changing one is no fault); only registers every device polls (no group).
    public static func defaultRegisters(of model: ModelDefinition) -> [String] {
        let counterUnits: Set<String> = ["kwh", "wh", "mwh", "h", "hours", "s"]
        let picked = model.registers.filter { r in
            r.instance == nil && r.group == nil && r.access == .read && r.dataType != .string && r.dataType != .bool && r.bit == nil
                && !r.isEnum && !r.isBitmap && r.bitmapFields.isEmpty && r.metricType == .gauge
                && !counterUnits.contains(r.unit.lowercased()) && r.unit.lowercased() != "enum"
        }
        return Array(picked.map(\.name).prefix(maxRegisters))
    }
}
