/// A simulated device type: its points and the address windows its tables answer for.
/// Requests outside a window get Illegal Data Address, as real controllers answer absent blocks.
struct SimProfile {
    var name: String
    var points: [SimPoint]
    var windows: [SimTable: Range<Int>]

    init(name: String, points: [SimPoint], extraWindows: [SimTable: Range<Int>] = [:]) {
        self.name = name
        self.points = points
        var windows: [SimTable: Range<Int>] = extraWindows
        for p in points {
            let span = p.address..<(p.address + p.type.words)
            if let w = windows[p.table] {
                windows[p.table] = min(w.lowerBound, span.lowerBound)..<max(w.upperBound, span.upperBound)
            } else {
                windows[p.table] = span
            }
        }
        self.windows = windows
    }

    static func named(_ name: String) -> SimProfile? {
        switch name.lowercased() {
        case "idm", "idm_navigator_2": SimProfiles.idm
        case "nibe", "nibe_s1155": SimProfiles.nibe
        case "luxtronik", "luxtronik_2_1": SimProfiles.luxtronik
        case "daikin", "daikin_altherma": SimProfiles.daikin
        case "stiebel", "stiebel_eltron_wpm": SimProfiles.stiebel
        case "matrix": SimProfiles.matrix
        case "bench": SimProfiles.bench
        default: nil
        }
    }

    static let names = ["idm", "nibe", "luxtronik", "daikin", "stiebel", "matrix", "bench"]
}
