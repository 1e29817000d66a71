/// Luxtronik 2.1 Smart-Home-Interface, from the simulator's own table of SHI indices: inputs and
/// holdings both at PDU 10000 + index (separate tables), temperatures ×0.1 °C, int32 counters high
/// word first. Signed 16-bit fields that are not available read 0x7FFF (firmware 3.92.0+); mixing
/// circuits that are not fitted read 0x7FFF on their inputs, their SHI holdings still exist.
extension SimProfiles {
    static func luxtronik(_ layout: SimLayout = SimLayout()) -> SimProfile {
        let na = SimScalar.int(32767)
        /// Signed 16-bit input, ×0.1.
        func s16(_ name: String, _ index: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: 10000 + index, type: .int16, scale: 0.1, dynamics: d, absent: na)
        }
        /// Unsigned 16-bit input, ×0.1 (no "not available" value).
        func u16t(_ name: String, _ index: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: 10000 + index, type: .uint16, scale: 0.1, dynamics: d)
        }
        func u16(_ name: String, _ index: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: 10000 + index, type: .uint16, dynamics: d)
        }
        func s32(_ name: String, _ index: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: 10000 + index, type: .int32, scale: 0.1, dynamics: d)
        }
        /// Holding (SHI parameter): unsigned unless `signed`, raw = value / scale.
        func h(_ name: String, _ index: Int, _ v: Double, scale: Double = 1, signed: Bool = false) -> SimPoint {
            SimPoint(name: name, table: .holding, address: 10000 + index, type: signed ? .int16 : .uint16, scale: scale,
                     dynamics: .constant(v), absent: signed ? na : nil)
        }
        var points: [SimPoint] = [
            u16("heatpump_status", 0, .compressor), u16("operation_mode", 2, .whenRunning(on: 0, off: 5)),
            u16("heating_status", 3, .whenRunning(on: 3, off: 1)), u16("hot_water_status", 4, .constant(1)),
            u16("cooling_operation_status", 6, .constant(0)), u16("pool_heating_status", 7, .constant(0)),
            u16t("return_temp", 100, .returnTemp), u16t("return_target_temp", 101, .constant(30)),
            u16t("return_ext_temp", 102, .constant(29.6)), s16("return_limit_temp", 103, .constant(50)),
            s16("return_min_target_temp", 104, .constant(15)), u16t("flow_temp", 105, .flow),
            SimPoint(name: "room_temp", table: .input, address: 10106, type: .int16, dynamics: .constant(32767), absent: na),  // no room sensor: 0x7FFF
            s16("heating_limit_temp", 107, .constant(18)),
            s16("outdoor_temp", 108, .outdoor), s16("outdoor_temp_avg", 109, .constant(4.4)),
            s16("heat_source_in_temp", 110, .constant(7.9)), s16("heat_source_out_temp", 111, .constant(4.2)),
            u16t("max_flow_temp", 112, .constant(60)),
            s16("hot_water_temp", 120, .dhw), u16t("hot_water_target_temp", 121, .constant(48)),
            s16("hot_water_min_temp", 122, .constant(30)), s16("hot_water_max_temp", 123, .constant(65)),
            s16("hot_water_limit_temp", 124, .constant(62)),
            u16("error_number", 201, .constant(0)), u16("buffer_type", 202, .constant(1)),
            u16("min_off_time", 203, .constant(20)), u16("min_run_time", 204, .constant(10)),
            u16("cooling_configured", 205, .constant(1)), u16("pool_heating_configured", 206, .constant(0)),
            u16("cooling_release", 207, .constant(0)),
            s16("heating_power", 300, .thermalPower), u16t("electric_power", 301, .power),
            u16t("electric_power_min_predicted", 302, .constant(0.8)),
            s32("electric_energy_total", 310, .counter(base: 9876, perHour: 2)),
            s32("electric_energy_heating", 312, .counter(base: 7654, perHour: 1.5)),
            s32("electric_energy_dhw", 314, .counter(base: 2222, perHour: 0.5)),
            s32("electric_energy_cooling", 316, .constant(123.4)), s32("electric_energy_pool", 318, .constant(0)),
            s32("thermal_energy_total", 320, .counter(base: 38500, perHour: 7)),
            s32("thermal_energy_heating", 322, .counter(base: 30100, perHour: 5.5)),
            s32("thermal_energy_dhw", 324, .counter(base: 7900, perHour: 1.5)),
            s32("thermal_energy_cooling", 326, .constant(501.2)), s32("thermal_energy_pool", 328, .constant(0)),
            u16("firmware_version_major", 400, .constant(3)), u16("firmware_version_minor", 401, .constant(92)),
            u16("firmware_version_patch", 402, .constant(0)),
            // SHI parameters: the controller's defaults (no influence).
            h("heating_control_mode", 0, 0), h("heating_setpoint", 1, 32, scale: 0.1), h("heating_offset", 2, 0, scale: 0.1, signed: true),
            h("heating_level", 3, 0),
            h("hot_water_control_mode", 5, 0), h("hot_water_setpoint", 6, 50, scale: 0.1), h("hot_water_offset", 7, 0, scale: 0.1, signed: true),
            h("hot_water_level", 8, 0),
            h("power_limit_mode", 40, 0), h("power_limit", 41, 3.5, scale: 0.1),
            h("lock_heating", 50, 0), h("lock_hot_water", 51, 0), h("lock_cooling", 52, 0), h("lock_pool", 53, 0),
            h("heating_overall_control_mode", 65, 0), h("heating_overall_offset", 66, 0, scale: 0.1, signed: true), h("heating_overall_level", 67, 0),
            h("hot_water_circulation", 70, 0), h("hot_water_extra", 71, 0),
        ]
        // Mixing circuits 1-3: inputs from 10140, holdings from 10010, ten apart.
        for n in 1...3 {
            let c = "circuit_\(n)."
            let k = Double(n - 1)
            let i = 140 + 10 * (n - 1), p = 10 + 10 * (n - 1)
            var inputs = [
                s16(c + "flow_temp", i, .constant(33.5 - k)), s16(c + "flow_setpoint", i + 1, .constant(34 - k)),
                s16(c + "flow_setpoint_min", i + 2, .constant(20)), s16(c + "flow_setpoint_max", i + 3, .constant(45 - k)),
            ]
            if !layout.luxtronikCircuits.contains(n) {
                inputs = inputs.map { var point = $0; point.exact = point.absent; return point }
            }
            points += inputs + [
                h(c + "heating_control_mode", p, 0), h(c + "heating_setpoint", p + 1, 35 - k, scale: 0.1),
                h(c + "heating_offset", p + 2, 0, scale: 0.1, signed: true), h(c + "heating_level", p + 3, 0),
                h(c + "cooling_control_mode", p + 5, 0), h(c + "cooling_setpoint", p + 6, 20 + k, scale: 0.1),
                h(c + "cooling_offset", p + 7, 0, scale: 0.1, signed: true),
            ]
        }
        var profile = SimProfile(name: "luxtronik", points: points)
        // The SHI fails a whole read that covers an address it does not implement. It implements its
        // points plus the addresses python-luxtronik lists without a meaning (shared reference §3).
        var inputs = Set([10113]).union(10350...10361).union(10404...10417).union(10500...10502)
        var holdings: Set<Int> = [10060]
        for p in points {
            let span = p.address..<(p.address + p.span)
            if p.table == .input { inputs.formUnion(span) } else { holdings.formUnion(span) }
        }
        profile.implemented = [.input: inputs, .holding: holdings]
        // Its tables span the extra addresses too, so those answer (with 0) instead of falling outside the window.
        profile.windows[.input] = 10000..<10503
        return profile
    }
}
