/// Faults injected into one simulated unit.
struct SimFaults {
    /// Delay before every reply, milliseconds.
    var latencyMs = 0
    /// Swallow requests without replying (a hung device).
    var hang = false
    /// Exception code to answer when a request covers the address, per table.
    var exceptions: [SimTable: [Int: Int]] = [:]

    func exception(table: SimTable, range: Range<Int>) -> Int? {
        guard let byAddress = exceptions[table] else { return nil }
        for (address, code) in byAddress where range.contains(address) { return code }
        return nil
    }
}
