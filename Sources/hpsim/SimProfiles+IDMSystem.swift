/// The rest of IDM's system table, as a fitted Navigator 10 serves it (energy-manager inputs,
/// sensors, pumps and valves, bivalence, cascade, building-management inputs, solar, ISC, boosters,
/// power limits). Addresses from shared/reference/heatpump-registers.md §1.1; the values are the
/// simulator's own. Writable points take FC16 at their FC04 address, like the rest of the profile.
extension SimProfiles {
    static var idmSystem: [SimPoint] {
        func f(_ name: String, _ a: Int, _ v: Double, writable: Bool = false) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .float32, order: .CDAB, dynamics: .constant(v),
                     writableViaHolding: writable, absent: .real(-1))
        }
        func u8(_ name: String, _ a: Int, _ v: Double, writable: Bool = false) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .uint8, dynamics: .constant(v), writableViaHolding: writable, absent: .int(255))
        }
        func i16(_ name: String, _ a: Int, _ v: Double, writable: Bool = false) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .int16, dynamics: .constant(v), writableViaHolding: writable, absent: .int(-32768))
        }
        func u16(_ name: String, _ a: Int, _ v: Double) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .uint16, dynamics: .constant(v), absent: .uint(65535))
        }
        func flag(_ name: String, _ a: Int, _ on: Bool) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .bool, dynamics: .constant(on ? 1 : 0), writableViaHolding: true)
        }
        var points: [SimPoint] = [
            // Energy-manager inputs 76-90.
            f("electric_heater_power", 76, 0.5, writable: true), f("house_consumption", 82, 1.75, writable: true),
            f("battery_discharge", 84, 0.25, writable: true),
            SimPoint(name: "battery_soc", table: .input, address: 86, type: .int16, dynamics: .constant(64), writableViaHolding: true, absent: .int(-1)),
            f("pv_target_value", 88, 2.5, writable: true), u8("smart_grid_status", 90, 2),
            // Inputs, storage and sensors 1006-1088.
            u8("variable_input", 1006, 2), f("cold_storage_temp", 1010, 16.5), f("dhw_tapping_temp", 1030, 47.5),
            f("electricity_price", 1048, 182.5), f("hgl_flow_temp", 1054, 38.25),
            f("air_intake_temp", 1060, 6.5), f("air_heat_exchanger_temp", 1062, 2.75), f("air_intake_temp_2", 1064, 6.25),
            f("charging_sensor_temp", 1066, 36.5), f("heat_sink_return_temp", 1068, 29.5), f("heat_sink_flow_temp", 1070, 34.75),
            f("heat_sink_flow_rate", 1072, 18.5), i16("heat_sink_pump_signal", 1074, 55),
            f("groundwater_inlet_temp_1", 1086, 10.5), f("groundwater_inlet_temp_2", 1088, 10.25),
            // Demands, compressors 2-4, pumps, valves.
            u8("heating_demand", 1091, 1), u8("cooling_demand", 1092, 0), u8("dhw_demand", 1093, 0),
            u8("compressor_status_2", 1101, 0), u8("compressor_status_3", 1102, 0), u8("compressor_status_4", 1103, 0),
            i16("brine_pump_status", 1105, 70), i16("heat_source_pump_status", 1106, -1),
            i16("isc_cold_storage_pump_status", 1108, -1), i16("isc_recooling_pump_status", 1109, 30),
            u16("valve_circuit_heat_cool", 1110, 0), u16("valve_storage_heat_cool", 1111, 1), u16("valve_heat_dhw", 1112, 0),
            u16("valve_source_heat_cool", 1113, 1), u16("valve_solar_heat_dhw", 1114, 0), u16("valve_solar_storage_source", 1115, 1),
            u16("valve_isc_source_cold_storage", 1116, 0), u16("valve_isc_storage_bypass", 1117, 1), u16("circulation_pump", 1118, 1),
            // Bivalence (EEPROM parameters) and its state.
            i16("bivalence_point_1_second_generator", 1120, -5, writable: true), i16("bivalence_point_2_second_generator", 1121, -12, writable: true),
            i16("bivalence_point_1_third_generator", 1122, -15, writable: true), i16("bivalence_point_2_third_generator", 1123, -20, writable: true),
            u8("bivalence_state", 1124, 1),
            // Cascade.
            u8("cascade_available_heating", 1147, 3), u8("cascade_available_cooling", 1148, 2), u8("cascade_available_dhw", 1149, 3),
            u8("cascade_running_heating", 1150, 1), u8("cascade_running_cooling", 1151, 0), u8("cascade_running_dhw", 1152, 1),
            f("cascade_demand_heating_temp", 1200, 38.5), f("cascade_demand_cooling_temp", 1202, 18.5), f("cascade_demand_dhw_temp", 1204, 52.5),
            f("cascade_flow_heating_temp", 1206, 37.25), f("cascade_flow_cooling_temp", 1208, 19.25), f("cascade_flow_dhw_temp", 1210, 51.75),
            u8("cascade_min_power_heating", 1220, 20, writable: true), u8("cascade_max_power_heating", 1221, 90, writable: true),
            u8("cascade_min_power_cooling", 1222, 25, writable: true), u8("cascade_max_power_cooling", 1223, 80, writable: true),
            u8("cascade_min_power_dhw", 1224, 30, writable: true), u8("cascade_max_power_dhw", 1225, 100, writable: true),
            i16("cascade_bivalence_heating_parallel", 1226, -3, writable: true), i16("cascade_bivalence_heating_alternative", 1227, -10, writable: true),
            i16("cascade_bivalence_cooling_parallel", 1228, 26, writable: true), i16("cascade_bivalence_cooling_alternative", 1229, 32, writable: true),
            i16("cascade_bivalence_dhw_parallel", 1230, -2, writable: true), i16("cascade_bivalence_dhw_alternative", 1231, -8, writable: true),
            // Extra faults (1 = OK), building-management inputs.
            u8("fault_heat_source_circuit", 1680, 1), u8("fault_heat_source_pressure_switch", 1681, 1),
            u8("fault_charging_pump_1", 1682, 1), u8("fault_charging_pump_2", 1683, 0),
            f("ext_outdoor_temp", 1690, 3.5, writable: true), f("ext_humidity", 1692, 55.5, writable: true),
            SimPoint(name: "ext_demand_temp_heating", table: .input, address: 1694, type: .uint8, dynamics: .constant(42), writableViaHolding: true, absent: .int(0)),
            SimPoint(name: "ext_demand_temp_cooling", table: .input, address: 1695, type: .uint8, dynamics: .constant(18), writableViaHolding: true, absent: .int(0)),
            flag("demand_heating", 1710, true), flag("demand_cooling", 1711, false), flag("demand_dhw_charging", 1712, false), flag("demand_dhw_once", 1713, true),
            SimPoint(name: "ext_demand_groundwater_pump", table: .input, address: 1714, type: .uint8, dynamics: .constant(60), writableViaHolding: true, absent: .int(254)),
            SimPoint(name: "ext_demand_groundwater_pump_max", table: .input, address: 1715, type: .uint8, dynamics: .constant(85), writableViaHolding: true, absent: .int(254)),
            f("glt_heat_storage_temp", 1716, 41.5, writable: true), f("glt_cold_storage_temp", 1718, 14.5, writable: true),
            f("glt_dhw_temp_bottom", 1720, 44.25, writable: true), f("glt_dhw_temp_top", 1722, 49.75, writable: true),
            // Energy and power beyond the main counters.
            f("energy_passive_cooling", 1758, 310.5), f("energy_solar", 1760, 1825.25), f("solar_power", 1792, 1.25),
            // Solar and ISC.
            f("solar_collector_temp", 1850, 57.5), f("solar_return_temp", 1852, 31.5), f("solar_charging_temp", 1854, 45.25),
            u8("solar_mode", 1856, 3, writable: true), f("solar_source_pool_temp", 1857, 24.5),
            f("isc_charging_temp_cooling", 1870, 21.5), f("isc_recooling_temp", 1872, 27.25), u8("isc_mode", 1874, 4),
            // Boosters A/B (Navigator 10).
            u8("booster_fault", 4001, 0), u8("booster_interlock", 4002, 0),
        ]
        // Boosters A and B: booster_1 / booster_2 (a lone "b" reads as "bytes" to Prometheus linters).
        for (i, (booster, base)) in [("1", 4010), ("2", 4040)].enumerated() {
            let n = Double(i)
            points += [
                f("booster_\(booster)_source_inlet_temp", base, 30.5 + n), f("booster_\(booster)_source_outlet_temp", base + 2, 26.5 + n),
                f("booster_\(booster)_storage_temp", base + 4, 55.5 + n), f("booster_\(booster)_flow_temp", base + 6, 62.5 + n),
                f("booster_\(booster)_return_temp", base + 8, 54.5 + n),
                i16("booster_\(booster)_source_pump", base + 10, 40 + 10 * n), i16("booster_\(booster)_charging_pump", base + 11, -1),
                u8("booster_\(booster)_compressor", base + 12, 1 - n),
            ]
        }
        points += [
            f("power_limit_hp", 4108, 12.5, writable: true), f("power_limit_cascade", 4112, 40, writable: true),
            f("software_version", 4120, 20.23), f("electrical_power_smartfox", 4124, 1.875),
            f("thermal_power_flow_sensor", 4126, 7.25), f("heat_energy_combined", 4128, 21055.5),
        ]
        return points
    }
}
