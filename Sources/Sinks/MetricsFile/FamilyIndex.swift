import HPCore

/// Groups every device's samples by register family for a metrics rewrite: for each family name
/// (sorted), the (row, sample) positions of its values, in row order.
///
/// Devices of one model usually report the same sample names in the same order, so the family of
/// each position is looked up once per model layout and reused: most devices are indexed without
/// hashing a single name (a name compare on identical string storage is a pointer compare). A
/// device whose samples differ (a quarantined register, a "not available" sentinel) gets its own
/// lookup and becomes its model's layout.
struct FamilyIndex {
    private struct Layout {
        var names: [String]
        var families: [Int]
    }

    private var familyByName: [String: Int] = [:]
    private var names: [String] = []
    private var members: [[(Int, Int)]] = []
    private var layouts: [String: Layout] = [:]

    mutating func add(_ samples: [Sample], row: Int, model: String) {
        var layout: Layout
        if let known = layouts[model], Self.sameNames(known.names, samples) {
            layout = known
        } else {
            layout = Layout(names: samples.map(\.name), families: [])
            // Template instances share a family (their series name); the layout stays per register name.
            layout.families = samples.map { family(named: $0.seriesName) }
            layouts[model] = layout
        }
        for (position, family) in layout.families.enumerated() { members[family].append((row, position)) }
    }

    /// Whether `samples` carry `names`, in order. An index loop: reading each name in place, where a
    /// `zip` of the two copied every `Sample` (perf: ~10 % of a rewrite in copies and their release).
    private static func sameNames(_ names: [String], _ samples: [Sample]) -> Bool {
        guard names.count == samples.count else { return false }
        for i in names.indices where names[i] != samples[i].name { return false }
        return true
    }

    private mutating func family(named name: String) -> Int {
        if let known = familyByName[name] { return known }
        familyByName[name] = names.count
        names.append(name)
        members.append([])
        return names.count - 1
    }

    /// Families by name (the file's order), each with its members.
    func sortedFamilies() -> [(name: String, members: [(Int, Int)])] {
        names.indices.sorted { names[$0] < names[$1] }.map { (names[$0], members[$0]) }
    }
}
