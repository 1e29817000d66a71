/// Saving and restoring the derived state across daemon restarts (`DerivedState`).
extension DerivedMetrics {
    /// Counter readings older than this at restore are dropped: the energy of a long outage cannot be
    /// put in the right day, so SCOP restarts counting from the next poll instead.
    public static let maxRestoredCounterAge = 3600.0

    /// The state to save.
    public var saved: DerivedState {
        var state = DerivedState()
        state.cycles = cycles?.saved
        state.periods = periods.saved() + usePeriods.sorted { $0.key < $1.key }.flatMap { $0.value.saved(use: $0.key) }
        state.defrost = inputs.detectsDefrost ? defrost.saved : nil
        state.counters = counters.map { DerivedState.Counters(at: $0.at, values: $0.values) }
        state.comfort = inputs.comfort == nil ? nil : comfort.saved
        return state
    }

    /// Continues from a saved state (the caller checked it belongs to the same `inputs`); `now` is the
    /// wall-clock time of the restore. Returns false, changing nothing, for an implausible state.
    @discardableResult
    public mutating func restore(_ state: DerivedState, now: Double) -> Bool {
        guard state.isPlausible else { return false }
        if var saved = state.cycles, let current = cycles {
            // A last observation in the future (the clock was set back) would hold off every poll until then.
            if let at = saved.lastAt, at > now { saved.lastAt = nil; saved.lastRunning = nil; saved.startedAt = nil }
            saved.startTimes.removeAll { $0 > now }
            saved.segments?.removeAll { $0.to > now }
            cycles = CompressorCycles(settings: current.settings, restoring: saved)
        }
        if var saved = state.defrost, inputs.detectsDefrost {
            if let at = saved.lastAt, at > now { saved.lastAt = nil; saved.lastDefrosting = nil; saved.since = nil }
            defrost = DefrostPeriods(minDuration: defrost.minDuration, maxGap: defrost.maxGap, restoring: saved)
        }
        if var saved = state.comfort, inputs.comfort != nil {
            if let at = saved.lastAt, at > now { saved.lastAt = nil; saved.lastDeficit = nil; saved.lastDHWBelow = nil }
            comfort = ComfortTracker(maxGap: comfort.maxGap, restoring: saved)
        }
        if inputs.scop != nil {
            periods.restore(state.periods.filter { $0.use == nil })
            for use in usePeriods.keys { usePeriods[use]?.restore(state.periods.filter { $0.use == use }) }
            if let c = state.counters, now - c.at >= 0, now - c.at <= Self.maxRestoredCounterAge { counters = (c.at, c.values) }
        }
        return true
    }
}
