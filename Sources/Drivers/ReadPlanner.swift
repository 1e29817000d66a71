import HPCore

/// Plans the fewest read requests for a register map (read-group coalescing, DESIGN.md decision 2).
///
/// Registers of one table are merged into ranges no longer than the protocol limit, bridging gaps of
/// at most `maxGap` unused registers. Addresses in `forbidden` (registers that answered Illegal Data
/// Address) are never covered, so a quarantined hole splits a range instead of failing it again.
/// Greedy left-to-right extension is optimal here: a group's feasibility depends only on its first
/// register's address and the next register's gap and end, so extending as far as possible never
/// increases the count.
public struct ReadPlanner: Sendable {
    public var maxGap: Int
    public var maxRegisters: Int
    public var maxBits: Int

    public init(maxGap: Int = 16, maxRegisters: Int = 125, maxBits: Int = 2000) {
        self.maxGap = maxGap
        self.maxRegisters = maxRegisters
        self.maxBits = maxBits
    }

    /// - Parameters:
    ///   - registers: the device's registers; only readable ones not in `excluded` are planned.
    ///   - excluded: indices of registers to leave out (quarantined).
    ///   - forbidden: addresses per table that a request must not cover.
    public func plan(_ registers: [RegisterDefinition], excluded: Set<Int> = [],
                     forbidden: [RegisterType: Set<Int>] = [:]) -> [ReadRequest] {
        var requests: [ReadRequest] = []
        for type in RegisterType.allCases {
            let indices = registers.indices
                .filter { registers[$0].registerType == type && registers[$0].access.isReadable && !excluded.contains($0) }
                .sorted { (registers[$0].address, registers[$0].count) < (registers[$1].address, registers[$1].count) }
            guard let first = indices.first else { continue }
            let limit = type.isBitTable ? maxBits : maxRegisters
            let holes = forbidden[type] ?? []
            var start = registers[first].address
            var end = start + registers[first].count  // exclusive
            var members = [first]
            for index in indices.dropFirst() {
                let r = registers[index]
                let newEnd = max(end, r.address + r.count)
                let gap = r.address - end
                let fits = gap <= maxGap && newEnd - start <= limit && !(gap > 0 && Self.covers(holes, end..<r.address))
                if fits {
                    end = newEnd
                    members.append(index)
                } else {
                    requests.append(ReadRequest(registerType: type, address: start, count: end - start, members: members))
                    start = r.address
                    end = r.address + r.count
                    members = [index]
                }
            }
            requests.append(ReadRequest(registerType: type, address: start, count: end - start, members: members))
        }
        return requests
    }

    private static func covers(_ holes: Set<Int>, _ range: Range<Int>) -> Bool {
        guard !holes.isEmpty else { return false }
        return range.count < holes.count ? range.contains(where: holes.contains) : holes.contains(where: range.contains)
    }
}
