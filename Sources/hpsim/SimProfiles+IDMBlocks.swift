/// IDM's heating circuits A-G and zone modules 0-9, from the simulator's own tables (iDM's
/// "Modbus TCP Navigator" layout: each circuit value is a column of seven, circuit A first; zone
/// module n starts at 2000 + 65·n with two module words and eight rooms of seven registers).
extension SimProfiles {
    /// Points of the present circuits and zones, and the addresses of the absent ones.
    static func idmBlocks(_ layout: SimLayout) -> (points: [SimPoint], absent: Set<Int>) {
        var points: [SimPoint] = []
        var absent: Set<Int> = []
        func f(_ name: String, _ a: Int, _ d: SimDynamics, writable: Bool = false) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .float32, order: .CDAB, dynamics: d, writableViaHolding: writable, absent: .real(-1))
        }
        func u8(_ name: String, _ a: Int, _ v: Double, writable: Bool = false) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .uint8, dynamics: .constant(v), writableViaHolding: writable, absent: .int(255))
        }
        for (i, letter) in SimLayout.idmCircuitLetters.enumerated() {
            let c = "circuit_\(letter.lowercased())."
            let n = Double(i)
            // (name, float?, first address, value, writable): floats two words apart, bytes one.
            let circuit: [SimPoint] = [
                f(c + "flow_temp", 1350 + 2 * i, i == 0 ? .flow : .constant(32 + n)),
                f(c + "room_temp", 1364 + 2 * i, .constant(20.5 + n / 2)),
                f(c + "flow_setpoint", 1378 + 2 * i, .constant(35 + n)),
                u8(c + "mode", 1393 + i, Double(i % 4), writable: true),
                f(c + "room_setpoint_normal", 1401 + 2 * i, .constant(21 + n / 4), writable: true),
                f(c + "room_setpoint_eco", 1415 + 2 * i, .constant(18 + n / 4), writable: true),
                f(c + "heating_curve", 1429 + 2 * i, .constant(0.6 + n / 10), writable: true),
                u8(c + "heating_limit", 1442 + i, 15 + n, writable: true),
                u8(c + "flow_setpoint_constant", 1449 + i, 40 + n, writable: true),
                f(c + "cooling_setpoint_normal", 1457 + 2 * i, .constant(24 + n / 2), writable: true),
                f(c + "cooling_setpoint_eco", 1471 + 2 * i, .constant(26 + n / 2), writable: true),
                u8(c + "cooling_limit", 1484 + i, 22 + n, writable: true),
                u8(c + "flow_setpoint_cooling", 1491 + i, 18 + n, writable: true),
                u8(c + "active_mode", 1498 + i, Double(i % 3)),
                u8(c + "parallel_shift", 1505 + i, n, writable: true),
                f(c + "external_room_temp", 1650 + 2 * i, .constant(21.5 + n / 2), writable: true),
            ]
            if layout.idmCircuits.contains(letter) {
                points += circuit
            } else {
                for p in circuit { absent.formUnion(p.address..<(p.address + p.span)) }
            }
        }
        for zone in 0..<10 {
            let base = 2000 + 65 * zone
            let z = "zone_\(zone)."
            var module: [SimPoint] = [u8(z + "mode", base, Double(zone % 2)), u8(z + "dehumidification", base + 1, 0)]
            for room in 1...8 {
                let r = z + "room_\(room)."
                let at = base + 2 + 7 * (room - 1)
                let k = Double(zone * 8 + room)
                module += [
                    f(r + "temp", at, .constant(19 + k / 8), writable: true),
                    f(r + "setpoint", at + 2, .constant(20.5 + Double(room % 3) / 2), writable: true),
                    u8(r + "humidity", at + 4, 40 + Double(room), writable: true),
                    u8(r + "mode", at + 5, Double(room % 5), writable: true),
                    u8(r + "relay", at + 6, Double(room % 2)),
                ]
            }
            if layout.idmZones.contains(zone) {
                points += module
            } else {
                absent.formUnion(base..<(base + 65))
            }
        }
        // iDM's table overlaps at the column ends (circuit G's heating curve 1441-1442 and circuit A's
        // heating limit 1442): an address a fitted block uses is never absent.
        for p in points { absent.subtract(p.address..<(p.address + p.span)) }
        return (points, absent)
    }
}
