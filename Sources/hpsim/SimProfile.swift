/// A simulated device type: its points and the address windows its tables answer for.
/// Requests outside a window get Illegal Data Address, as real controllers answer absent blocks.
struct SimProfile {
    var name: String
    var points: [SimPoint]
    var windows: [SimTable: Range<Int>]
    /// Input addresses that accept holding writes (FC06/FC16) at the same address; see `SimPoint.writableViaHolding`.
    var inputWriteAddresses: Set<Int> = []
    /// Addresses of the profile's real holding points; with `inputWriteAddresses` the only holding
    /// addresses such a profile answers (the rest of its holding window exists only to take writes).
    var holdingAddresses: Set<Int> = []
    /// Addresses of absent optional blocks (IDM circuits and zones not fitted): any request that
    /// touches one, in any table, gets Illegal Data Address.
    var absentAddresses: Set<Int> = []
    /// Tables in which only these addresses exist (the Luxtronik SHI): a request that covers any
    /// other address of the table, even between two implemented ones, gets Illegal Data Address.
    var implemented: [SimTable: Set<Int>] = [:]

    init(name: String, points: [SimPoint], extraWindows: [SimTable: Range<Int>] = [:]) {
        self.name = name
        self.points = points
        var windows: [SimTable: Range<Int>] = extraWindows
        for p in points {
            let span = p.address..<(p.address + p.span)
            if let w = windows[p.table] {
                windows[p.table] = min(w.lowerBound, span.lowerBound)..<max(w.upperBound, span.upperBound)
            } else {
                windows[p.table] = span
            }
        }
        for p in points {
            let span = p.address..<(p.address + p.span)
            if p.table == .holding { holdingAddresses.formUnion(span) }
            guard p.table == .input, p.writableViaHolding else { continue }
            inputWriteAddresses.formUnion(span)
            // libmodbus applies the write to its holding table; the unit copies it to the input table.
            if let w = windows[.holding] {
                windows[.holding] = min(w.lowerBound, span.lowerBound)..<max(w.upperBound, span.upperBound)
            } else {
                windows[.holding] = span
            }
        }
        self.windows = windows
    }

    /// Whether a request to the holding table is one the device answers. Profiles without
    /// write-through inputs answer their whole window, as before.
    func acceptsHolding(function: Int, range: Range<Int>) -> Bool {
        guard !inputWriteAddresses.isEmpty else { return true }
        let isWrite = function == 6 || function == 16
        return range.allSatisfy { holdingAddresses.contains($0) || (isWrite && inputWriteAddresses.contains($0)) }
    }

    static func named(_ name: String, layout: SimLayout = SimLayout()) -> SimProfile? {
        switch name.lowercased() {
        case "idm", "idm_navigator_2": SimProfiles.idm(layout)
        case "nibe", "nibe_s1155": SimProfiles.nibe(layout)
        case "luxtronik", "luxtronik_2_1": SimProfiles.luxtronik(layout)
        case "daikin", "daikin_altherma": SimProfiles.daikin
        case "stiebel", "stiebel_eltron_wpm": SimProfiles.stiebel
        case "matrix": SimProfiles.matrix
        case "bench": SimProfiles.bench
        // A Modbus device that is no heat pump: every read and write answers Illegal Data Address.
        case "refusing": SimProfile(name: "refusing", points: [])
        default: nil
        }
    }

    static let names = ["idm", "nibe", "luxtronik", "daikin", "stiebel", "matrix", "bench", "refusing"]
}
