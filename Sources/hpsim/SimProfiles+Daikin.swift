/// Daikin Altherma behind a HomeHub EKRHH (use case 3), from the simulator's own table of Daikin's
/// 1-based register numbers (PDU = number − 1): Temp16 ×0.01 °C, Pow16 ×0.01 kW, Int16 whole values,
/// Text16 two ASCII characters. 32766 marks "no error" on the error sub-code. The unit answers
/// holdings 1-67 and inputs 21-61 (Daikin's read blocks), unmapped numbers read 0.
extension SimProfiles {
    static var daikin: SimProfile {
        func t(_ name: String, _ number: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: number - 1, type: .int16, scale: 0.01, dynamics: d)
        }
        func i(_ name: String, _ number: Int, _ d: SimDynamics) -> SimPoint {
            SimPoint(name: name, table: .input, address: number - 1, type: .int16, dynamics: d)
        }
        func h(_ name: String, _ number: Int, _ v: Double, scale: Double = 1) -> SimPoint {
            SimPoint(name: name, table: .holding, address: number - 1, type: .int16, scale: scale, dynamics: .constant(v))
        }
        return SimProfile(name: "daikin", points: [
            h("lwt_heating_setpoint", 1, 35), h("lwt_cooling_setpoint", 2, 18), h("operation_mode_setting", 3, 1),
            h("space_heating_on", 4, 1), h("room_heating_setpoint", 6, 21), h("room_cooling_setpoint", 7, 25),
            h("quiet_mode", 9, 0), h("dhw_setpoint", 10, 48), h("dhw_reheat_on", 12, 1), h("dhw_booster_on", 13, 0),
            h("weather_dependent_mode", 53, 1), h("lwt_heating_offset", 54, 0), h("lwt_cooling_offset", 55, 0),
            h("smart_grid_mode", 56, 0), h("power_limit_buffering", 57, 6, scale: 0.01), h("power_limit", 58, 8.5, scale: 0.01),
            h("thermostat_input_a", 59, 0), h("add_zone_thermostat_input_a", 61, 0),
            h("add_zone_lwt_heating_setpoint", 63, 30), h("add_zone_lwt_cooling_setpoint", 64, 20),
            h("add_zone_weather_dependent_mode", 65, 0), h("add_zone_lwt_heating_offset", 66, 0), h("add_zone_lwt_cooling_offset", 67, 0),
            i("unit_error", 21, .constant(0)),
            SimPoint(name: "unit_error_code", table: .input, address: 21, type: .string, dynamics: .constant(0), exact: .text(""), length: 1),
            i("unit_error_subcode", 23, .constant(32766)),
            i("circulation_pump_running", 30, .compressor), i("compressor_running", 31, .compressor),
            i("booster_heater_running", 32, .constant(0)), i("disinfection_running", 33, .constant(0)),
            i("defrost_active", 35, .defrost), i("hot_start_active", 36, .constant(0)),
            i("three_way_valve", 37, .constant(0)), i("operation_mode", 38, .constant(1)),
            t("leaving_water_temp", 40, .flow), t("leaving_water_backup_temp", 41, .flow), t("return_water_temp", 42, .returnTemp),
            t("dhw_temp", 43, .dhw), t("outdoor_temp", 44, .outdoor), t("refrigerant_liquid_temp", 45, .constant(27.35)),
            t("flow_rate", 49, .constant(21.5)), t("room_temp", 50, .constant(21.25)), t("power_consumption", 51, .power),
            i("dhw_running", 52, .constant(0)), i("space_running", 53, .whenRunning(on: 1, off: 0)),
            t("lwt_heating_min", 54, .constant(25)), t("lwt_heating_max", 55, .constant(55)),
            t("lwt_cooling_min", 56, .constant(5)), t("lwt_cooling_max", 57, .constant(22)),
            t("add_zone_lwt_heating_min", 58, .constant(25)), t("add_zone_lwt_heating_max", 59, .constant(45)),
            t("add_zone_lwt_cooling_min", 60, .constant(5)), t("add_zone_lwt_cooling_max", 61, .constant(22)),
        ], extraWindows: [.holding: 0..<67, .input: 20..<61])
    }
}
