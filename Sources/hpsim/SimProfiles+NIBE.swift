/// NIBE S-series (S1155/S1255/S2125/S320), from the simulator's own table of NIBE register numbers:
/// 3xxxx input, 4xxxx holding, PDU address = number mod 10000 − 1. s16/s32/u32 values, u8 in the low
/// byte, s8 parameters sign-extended in one word; 32-bit values low word first. "Not available" is the
/// type's integer limit (−32768, −128, 255, 0xFFFFFFFF). Climate systems 1-4 count down from system 1;
/// a system not fitted serves those limits (it does not answer Illegal Data Address). The registers this
/// file does not spell out come from `nibeTable` (one S1255 without cascade modules or systems 5-8).
extension SimProfiles {
    static func nibe(_ layout: SimLayout = SimLayout()) -> SimProfile {
        func pdu(_ number: Int) -> (SimTable, Int) { (number >= 40000 ? .holding : .input, number % 10000 - 1) }
        func s16(_ name: String, _ number: Int, _ d: SimDynamics, scale: Double = 0.1) -> SimPoint {
            let (table, a) = pdu(number)
            return SimPoint(name: name, table: table, address: a, type: .int16, scale: scale, dynamics: d, absent: .int(-32768))
        }
        func s8(_ name: String, _ number: Int, _ v: Double, scale: Double = 1) -> SimPoint {
            let (table, a) = pdu(number)
            return SimPoint(name: name, table: table, address: a, type: .int16, scale: scale, dynamics: .constant(v), absent: .int(-128))
        }
        func u8(_ name: String, _ number: Int, _ d: SimDynamics, scale: Double = 1) -> SimPoint {
            let (table, a) = pdu(number)
            return SimPoint(name: name, table: table, address: a, type: .uint8, scale: scale, dynamics: d, absent: .int(255))
        }
        func u16(_ name: String, _ number: Int, _ d: SimDynamics, scale: Double = 1) -> SimPoint {
            let (table, a) = pdu(number)
            return SimPoint(name: name, table: table, address: a, type: .uint16, scale: scale, dynamics: d, absent: .uint(65535))
        }
        func s32(_ name: String, _ number: Int, _ d: SimDynamics, scale: Double = 1) -> SimPoint {
            let (table, a) = pdu(number)
            return SimPoint(name: name, table: table, address: a, type: .int32, order: .CDAB, scale: scale, dynamics: d, absent: .int(-2_147_483_648))
        }
        func u32(_ name: String, _ number: Int, _ d: SimDynamics, scale: Double) -> SimPoint {
            let (table, a) = pdu(number)
            return SimPoint(name: name, table: table, address: a, type: .uint32, order: .CDAB, scale: scale, dynamics: d, absent: .uint(0xFFFF_FFFF))
        }
        var points: [SimPoint] = [
            s16("outdoor_temp", 30002, .outdoor), s16("supply_temp", 30006, .flow), s16("return_temp", 30008, .returnTemp),
            s16("hot_water_top_temp", 30009, .dhw), s16("hot_water_charging_temp", 30010, .dhw),
            s16("brine_in_temp", 30011, .constant(2.1)), s16("brine_out_temp", 30012, .constant(-0.8)),
            s16("condenser_temp", 30013, .whenRunning(on: 41.5, off: 28)), s16("discharge_temp", 30014, .whenRunning(on: 72.3, off: 30)),
            s16("liquid_line_temp", 30015, .constant(27.4)), s16("suction_gas_temp", 30017, .constant(-3.6)),
            s16("outdoor_temp_avg", 30038, .constant(4.5)), s16("external_supply_temp", 30040, .constant(33.2)),
            s16("flow_rate", 30041, .constant(18.2)), s16("pool_temp", 30028, .constant(27.5)),
            u8("cooling_status", 31020, .constant(0)), u8("hot_water_extra_status", 31079, .constant(0)),
            u8("hot_water_circulation_pump", 31064, .constant(1)),
            s16("compressor_frequency_min", 31042, .constant(20), scale: 1), s16("compressor_frequency_max", 31043, .constant(120), scale: 1),
            s16("compressor_current", 31053, .whenRunning(on: 6.25, off: 0), scale: 0.001),
            s16("cooling_degree_minute_balance", 40021, .constant(0)), u16("hot_water_extra_duration", 40226, .constant(0)),
            u32("current_be3", 30047, .constant(4.1), scale: 0.1), u32("current_be2", 30049, .constant(3.8), scale: 0.1),
            u32("current_be1", 30051, .constant(5.2), scale: 0.1),
            s32("additional_heat_runtime", 31026, .constant(321.5), scale: 0.1),
            s16("additional_heat_power", 31028, .constant(0), scale: 0.01),
            u8("priority", 31029, .whenRunning(on: 30, off: 10)),
            s8("hot_water_mode_current", 31039, 1),
            u16("compressor_frequency", 31047, .whenRunning(on: 55, off: 0), scale: 0.1),
            u16("compressor_power", 31049, .whenRunning(on: 2400, off: 0)),
            s32("compressor_starts", 31084, .counter(base: 1532, perHour: 2)),
            s32("compressor_runtime", 31088, .counter(base: 8123, perHour: 1)),
            s32("compressor_runtime_hot_water", 31092, .constant(1210)),
            u8("compressor_status", 31101, .compressor),
            u8("heating_medium_pump_speed", 31103, .whenRunning(on: 65, off: 0)), u8("brine_pump_speed", 31105, .whenRunning(on: 70, off: 0)),
            u8("sg_ready_mode", 31912, .constant(10)), u8("sg_ready_contact1_closed", 31913, .constant(0)), u8("sg_ready_contact2_closed", 31914, .constant(0)),
            s16("alarm_number", 31976, .constant(0), scale: 1), s16("general_alarm_number", 31977, .constant(0), scale: 1),
            u32("energy_heating_produced_hour", 32284, .constant(3.25), scale: 0.01), u32("energy_hot_water_produced_hour", 32286, .constant(0.75), scale: 0.01),
            u32("energy_cooling_produced_hour", 32290, .constant(0), scale: 0.01), u32("energy_heating_used_hour", 32292, .constant(0.81), scale: 0.01),
            u32("energy_hot_water_used_hour", 32294, .constant(0.27), scale: 0.01), u32("energy_cooling_used_hour", 32298, .constant(0), scale: 0.01),
            u32("energy_additional_heat_heating_hour", 32300, .constant(0), scale: 0.01),
            u32("energy_additional_heat_hot_water_hour", 32302, .constant(0.05), scale: 0.01),
            u32("power_consumption", 32306, .power, scale: 0.01),
            s16("low_pressure", 32309, .constant(6.42), scale: 0.01),
            u32("total_production", 33822, .counter(base: 40211, perHour: 8), scale: 0.1),
            u32("total_consumption", 33824, .counter(base: 11002, perHour: 2), scale: 0.1),
            s16("degree_minute_balance", 40019, .constant(-120)),
            s8("hot_water_demand_mode", 40057, 1),
            s16("hot_water_start_temp_high", 40059, .constant(55)), s16("hot_water_start_temp_normal", 40060, .constant(48)),
            s16("hot_water_start_temp_low", 40061, .constant(42)), s16("hot_water_stop_temp_high", 40063, .constant(60)),
            s16("hot_water_stop_temp_normal", 40064, .constant(51)), s16("hot_water_stop_temp_low", 40065, .constant(45)),
            u8("operating_mode", 40238, .constant(0)),
            u8("sg_ready_affects_heating", 40761, .constant(1)), u8("sg_ready_affects_cooling", 40762, .constant(0)),
            u8("sg_ready_affects_hot_water", 40763, .constant(1)), s16("sg_ready_additional_heat_max", 41053, .constant(3), scale: 0.01),
            u8("sg_ready_via_api", 43033, .constant(0)), u8("sg_ready_requested_mode", 46009, .constant(0)),
        ]
        // Climate systems: (name, number of system 1, systems that have it, point for system n).
        for n in 1...4 {
            let c = "climate_system_\(n)."
            let k = Double(n - 1)
            var system: [SimPoint] = [
                s16(c + "room_temp", 30117 - (n - 1), .constant(21.3 - k / 2)),
                u8(c + "shunt_mode", 31034 - (n - 1), .constant(n == 1 ? 0 : 1)),
                u8(c + "external_adjustment_active", 31058 - (n - 1), .constant(0)),
                u8(c + "use_room_sensor", 40203 - (n - 1), .constant(n % 2 == 1 ? 1 : 0)),
                s16(c + "room_setpoint", 40207 - (n - 1), .constant(21 - k)),
                u8(c + "room_sensor_factor", 40211 - (n - 1), .constant(2 + k / 2), scale: 0.1),
                s16(c + "room_setpoint_cooling", 40989 - (n - 1), .constant(25 + k / 2)),
                u8(c + "circulation_pump", 31827 - (n - 1), .constant(n == 1 ? 1 : 0)),
                u8(c + "room_sensor_factor_cooling", 40997 - (n - 1), .constant(1 + k / 2), scale: 0.1),
                s8(c + "external_offset_cooling", 44146 - (n - 1), -k),
                s16(c + "external_room_setpoint_cooling", 44154 - (n - 1), .constant(24 + k)),
            ]
            if n <= 3 {
                system += [
                    s16(c + "supply_setpoint", 31018 - (n - 1), .constant(34.5 - k)),
                    s8(c + "heating_curve", 40027 - (n - 1), 9 - k),
                    s8(c + "heating_offset", 40031 - (n - 1), k - 1),
                    s16(c + "supply_min", 40035 - (n - 1), .constant(20 + k)),
                    s16(c + "supply_max", 40039 - (n - 1), .constant(55 - k)),
                    s8(c + "external_offset", 40052 - (n - 1), k),
                    s16(c + "external_room_setpoint", 40056 - (n - 1), .constant(20 + k)),
                ]
            }
            if !layout.nibeSystems.contains(n) {
                // Not fitted: every value of the system reads its "not available" limit.
                system = system.map { var p = $0; p.exact = p.absent; return p }
            }
            points += system
        }
        // The rest of the list, from the simulator's generated table (SimProfiles+NIBETable.swift).
        for line in nibeTable.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 4, let number = Int(f[0]), let factor = Double(f[2]) else { continue }
            let n = "n\(number)"
            let raw = Int64(f[3])
            let value = raw.map { Double($0) / factor } ?? 0
            var p: SimPoint
            switch f[1] {
            case "u8": p = u8(n, number, .constant(value), scale: 1 / factor)
            case "s8": p = s8(n, number, value, scale: 1 / factor)
            case "u16": p = u16(n, number, .constant(value), scale: 1 / factor)
            case "u32": p = u32(n, number, .constant(value), scale: 1 / factor)
            case "s32": p = s32(n, number, .constant(value), scale: 1 / factor)
            default: p = s16(n, number, .constant(value), scale: 1 / factor)
            }
            // Exact raw values (a factor of 60 must not round through Double); absent modules serve the limit,
            // as do the table's registers of a climate system not fitted.
            let fitted = Self.nibeTableSystem[number].map(layout.nibeSystems.contains) ?? true
            p.exact = fitted ? raw.map { .int($0) } ?? p.absent : p.absent
            points.append(p)
        }
        return SimProfile(name: "nibe", points: points)
    }

    /// Table registers that belong to one of climate systems 1-4 (NIBE number → system): the mixing
    /// groups' supply and return sensors (EP21-EP23), room sensor 1, the system and room-unit switches,
    /// shunt settings and system 1's cooling parameters.
    static let nibeTableSystem: [Int: Int] = [
        30005: 2, 30004: 3, 30003: 4, 30078: 2, 30077: 3, 30076: 4, 30027: 1, 30026: 2, 30025: 3,
        40143: 2, 40144: 3, 40145: 4, 40148: 2, 40147: 3, 40151: 2, 40150: 3,
        40177: 1, 40178: 2, 40179: 3, 40180: 4,
        40933: 1, 31568: 1, 40721: 1, 40727: 1, 40968: 1, 40976: 1, 41007: 1, 41064: 1,
    ]
}
