/// Stiebel Eltron WPM behind an ISG gateway, from the simulator's own table of ISG register numbers
/// (1-based as the ISG documentation prints them; the PDU address is number − 1, as HPManager's
/// register map found by scanning a real unit). The operating status word sets bit 0 (HC1 pump)
/// always and bits 4 (heating) and 6 (compressor) while the compressor runs; the EVU word is a
/// constant 1. Sensors not connected (remote control FE7, heating circuit 2, cascade heat pumps 2-6,
/// room modules 2-5) read 0x8000.
extension SimProfiles {
    static var stiebel: SimProfile {
        func at(_ number: Int) -> Int { number - 1 }
        func t(_ name: String, _ n: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: at(n), type: .int16, scale: 0.1, dynamics: d, absent: .int(-32768))
        }
        func p(_ name: String, _ n: Int, _ v: Double) -> SimPoint {
            SimPoint(name: name, table: .input, address: at(n), type: .int16, scale: 0.01, dynamics: .constant(v), absent: .int(-32768))
        }
        func h(_ name: String, _ n: Int, _ v: Double, scale: Double = 0.1, type: SimValueType = .int16) -> SimPoint {
            SimPoint(name: name, table: .holding, address: at(n), type: type, scale: scale, dynamics: .constant(v))
        }
        func u(_ name: String, _ n: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: at(n), type: .uint16, dynamics: d, absent: .uint(0x8000))
        }
        func notConnected(_ name: String, _ n: Int) -> SimPoint {
            SimPoint(name: name, table: .input, address: at(n), type: .int16, dynamics: .constant(0), exact: .int(-32768))
        }
        // Cascade heat pumps 2-6 and room modules 1-5: this unit has room module 1 only; the others read 0x8000.
        var blocks: [SimPoint] = []
        for n in 2...6 {
            let base = 549 + 7 * (n - 2), c = "heat_pump_\(n)."
            for (i, name) in ["return_temperature", "flow_temperature", "hot_gas_temperature", "low_pressure", "mean_pressure", "high_pressure", "water_flow_rate"].enumerated() {
                blocks.append(notConnected(c + name, base + i))
            }
        }
        for n in 1...5 {
            let base = 584 + 4 * (n - 1), c = "room_module_\(n)."
            if n == 1 {
                blocks += [t(c + "temperature", base, .constant(21.7)), t(c + "setpoint", base + 1, .constant(21.5)),
                           t(c + "relative_humidity", base + 2, .constant(48.5)), t(c + "dew_point_temperature", base + 3, .constant(10.4)),
                           t(c + "setpoint_cooling", 604 + n - 1, .constant(25.5))]
            } else {
                blocks += ["temperature", "setpoint", "relative_humidity", "dew_point_temperature"].enumerated().map { notConnected(c + $0.element, base + $0.offset) }
                blocks.append(notConnected(c + "setpoint_cooling", 604 + n - 1))
            }
        }
        return SimProfile(name: "stiebel", points: blocks + [
            notConnected("actual_temperature_fe7", 501), notConnected("set_temperature_fe7", 502),
            t("actual_temperature_fek", 503, .constant(21.8)), t("set_temperature_fek", 504, .constant(21.5)),
            t("relative_humidity", 505, .constant(46.5)), t("dew_point_temperature", 506, .constant(9.7)),
            t("outside_temperature", 507, .outdoor), t("actual_temperature_hk1", 508, .constant(21.5)),
            t("set_temperature_hk1_wpm3i", 509, .constant(33)), t("set_temperature_hk1", 510, .constant(22)),
            notConnected("actual_temperature_hk2", 511), notConnected("set_temperature_hk2", 512),
            t("actual_flow_temperature_hp", 513, .flow), t("actual_flow_temperature_nhz", 514, .flow), t("actual_flow_temperature", 515, .flow),
            t("actual_return_temperature", 516, .returnTemp), t("set_fixed_temperature", 517, .constant(35)),
            t("actual_buffer_temperature", 518, .flow), t("set_buffer_temperature", 519, .constant(35)),
            p("heating_pressure", 520, 1.85), p("flow_rate", 521, 17.25),
            t("actual_dhw_temperature", 522, .dhw), t("set_dhw_temperature", 523, .constant(50)),
            t("collector_temperature", 528, .constant(12.5)), t("cylinder_temperature", 529, .constant(38.5)),
            t("application_limit_heating", 533, .constant(-20)), t("application_limit_dhw", 534, .constant(-15)),
            t("source_temperature", 536, .constant(6.5)), t("min_source_temperature", 537, .constant(-5)),
            p("source_pressure", 538, 1.42), t("system_hot_gas_temperature", 539, .whenRunning(on: 76, off: 24)),
            t("system_high_pressure", 540, .constant(21.9)), t("system_low_pressure", 541, .constant(10.3)),
            t("compressor_inlet_temperature", 542, .constant(3.5)), t("hp_flow_temperature", 543, .flow),
            t("hot_gas_temperature", 544, .whenRunning(on: 78, off: 25)),
            p("low_pressure", 545, 10.35), p("mean_pressure", 546, 10.42), p("high_pressure", 547, 22),
            t("wp_water_flow_rate", 548, .whenRunning(on: 18.5, off: 0)),
            h("operating_mode", 1501, 3, scale: 1, type: .uint16),
            h("comfort_temperature_hk1", 1502, 22), h("eco_temperature_hk1", 1503, 19), h("heating_curve_rise_hk1", 1504, 0.6, scale: 0.01),
            h("comfort_temperature_hk2", 1505, 21), h("eco_temperature_hk2", 1506, 18), h("heating_curve_rise_hk2", 1507, 0.45, scale: 0.01),
            h("fixed_value_operation", 1508, 40), h("dual_mode_temperature_heating", 1509, -5),
            h("comfort_temperature_dhw", 1510, 50), h("eco_temperature_dhw", 1511, 45),
            h("dhw_stages", 1512, 2, scale: 1, type: .uint16), h("dual_mode_temperature_dhw", 1513, -10),
            u("operating_status", 2501, .whenRunning(on: 0b101_0001, off: 0b1)), u("evu_release", 2502, .constant(1)),
            u("fault_status", 2504, .constant(0)), u("defrost_initiated", 2506, .defrost),
            u("active_error", 2507, .constant(0)), u("message_number", 2508, .constant(0)),
            u("heating_circuit_pump_1", 2509, .constant(1)), u("heating_circuit_pump_2", 2510, .constant(0)),
            u("dhw_charging_pump", 2514, .constant(0)), u("source_pump", 2515, .compressor), u("fault_output", 2516, .constant(0)),
            u("dhw_circulation_pump", 2517, .constant(0)), u("nhz_1", 2525, .constant(0)), u("nhz_2", 2526, .constant(0)),
            u("compressor_1", 2542, .compressor),
            u("heat_meter_heating_day", 3501, .counter(base: 12, perHour: 1.5)),
            u("heat_meter_heating_total_kwh_part", 3502, .constant(417)), u("heat_meter_heating_total_mwh_part", 3503, .constant(23)),
            u("heat_meter_dhw_day", 3504, .counter(base: 3, perHour: 0.3)),
            u("heat_meter_dhw_total_kwh_part", 3505, .constant(982)), u("heat_meter_dhw_total_mwh_part", 3506, .constant(6)),
            u("heat_meter_nhz_heating_total_kwh_part", 3507, .constant(57)), u("heat_meter_nhz_heating_total_mwh_part", 3508, .constant(0)),
            u("heat_meter_nhz_dhw_total_kwh_part", 3509, .constant(12)), u("heat_meter_nhz_dhw_total_mwh_part", 3510, .constant(0)),
            u("power_consumption_heating_day", 3511, .counter(base: 4, perHour: 0.5)),
            u("power_consumption_heating_total_kwh_part", 3512, .constant(301)), u("power_consumption_heating_total_mwh_part", 3513, .constant(6)),
            u("power_consumption_dhw_day", 3514, .counter(base: 1, perHour: 0.1)),
            u("power_consumption_dhw_total_kwh_part", 3515, .constant(455)), u("power_consumption_dhw_total_mwh_part", 3516, .constant(2)),
            u("runtime_compressor_heating", 3517, .constant(812)), u("runtime_compressor_dhw", 3518, .constant(233)),
            u("runtime_compressor_cooling", 3519, .constant(0)), u("runtime_nhz_1", 3520, .constant(14)),
            SimPoint(name: "inverter_power", table: .input, address: at(3680), type: .int16, scale: 0.1, dynamics: .power),
            h("sg_ready_enabled", 4001, 0, scale: 1, type: .uint16), h("sg_ready_input_1", 4002, 0, scale: 1, type: .uint16),
            h("sg_ready_input_2", 4003, 1, scale: 1, type: .uint16),
            u("sg_ready_state", 5001, .constant(2)), u("controller_identification", 5002, .constant(449)),
        ])
    }
}
