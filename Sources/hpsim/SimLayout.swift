/// Which optional blocks a simulated controller has: IDM heating circuits and zone modules (absent
/// ones answer Illegal Data Address, as iDM's controllers do) and NIBE climate systems (absent ones
/// serve NIBE's "not available" values) and Luxtronik mixing circuits (absent ones read 0x7FFF).
struct SimLayout {
    /// IDM heating circuits present, letters A-G.
    var idmCircuits: [String] = ["A", "B", "C", "D", "E", "F", "G"]
    /// IDM zone modules present, 0-9.
    var idmZones: [Int] = [0, 1]
    /// NIBE climate systems fitted, 1-4; the others serve "not available" values.
    var nibeSystems: [Int] = [1, 2, 3, 4]
    /// Luxtronik mixing circuits fitted, 1-3; the others read 0x7FFF ("not available").
    var luxtronikCircuits: [Int] = [1]

    static let idmCircuitLetters = ["A", "B", "C", "D", "E", "F", "G"]
}
