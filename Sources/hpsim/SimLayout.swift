/// Which optional blocks a simulated controller has: IDM heating circuits and zone modules.
/// Absent blocks answer Illegal Data Address, as the real controllers do.
struct SimLayout {
    /// IDM heating circuits present, letters A-G.
    var idmCircuits: [String] = ["A", "B", "C", "D", "E", "F", "G"]
    /// IDM zone modules present, 0-9.
    var idmZones: [Int] = [0, 1]

    static let idmCircuitLetters = ["A", "B", "C", "D", "E", "F", "G"]
}
