/// How busy a shared link is: the bus time of each device's last poll, summed into one cycle.
///
/// When a full cycle over all devices takes longer than their poll interval the link is
/// saturated: polling every device at its interval is impossible, so the devices stretch their
/// interval evenly to the measured cycle (plus 10 % headroom) instead of drifting or piling up.
public struct LinkLoad: Sendable {
    public struct Report: Sendable, Equatable {
        public var cycle: Double
        public var saturated: Bool
        /// True when this poll changed the saturated state (log once per change).
        public var changed: Bool
    }

    /// Headroom above the measured cycle when stretching.
    public static let headroom = 1.1

    private var lastBusTime: [String: Double] = [:]
    public private(set) var saturated = false
    public private(set) var cycle = 0.0
    /// The shared stretched interval while saturated: grows at once when the cycle needs it, shrinks
    /// only when it is well above the need, so a noisy cycle does not reshuffle every device's slot.
    public private(set) var stretched: Double?
    /// Common reference of the stretched schedule, so devices' slots do not collide.
    public let epoch: ContinuousClock.Instant

    public init(epoch: ContinuousClock.Instant = .now) {
        self.epoch = epoch
    }

    public mutating func record(device: String, busTime: Double, interval: Double) -> Report {
        lastBusTime[device] = busTime
        cycle = lastBusTime.values.reduce(0, +)
        let wasSaturated = saturated
        // Hysteresis: saturated above 95 % of the interval, clear again below 80 %.
        if cycle > interval * 0.95 { saturated = true } else if cycle < interval * 0.8 { saturated = false }
        if saturated {
            let need = (cycle * Self.headroom * 2).rounded(.up) / 2  // 0.5 s steps
            if let current = stretched, need <= current, need >= current * 0.8 {
                // still fits: keep every device's slot
            } else {
                stretched = max(need, interval)
            }
        } else {
            stretched = nil
        }
        return Report(cycle: cycle, saturated: saturated, changed: saturated != wasSaturated)
    }

    public mutating func forget(device: String) {
        lastBusTime[device] = nil
        cycle = lastBusTime.values.reduce(0, +)
    }

    /// The interval a device should use on this link.
    public func effectiveInterval(configured: Double) -> Double {
        max(configured, stretched ?? configured)
    }

    /// While saturated, devices take evenly spaced slots of the stretched interval by rank.
    public func slot(for device: String, interval: Double) -> Double {
        let devices = lastBusTime.keys.sorted()
        guard let rank = devices.firstIndex(of: device), !devices.isEmpty else { return 0 }
        return interval * Double(rank) / Double(devices.count)
    }
}
