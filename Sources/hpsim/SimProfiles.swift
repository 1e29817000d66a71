/// Built-in simulated devices. Addresses follow shared/reference/heatpump-registers.md, written
/// here independently of the poller's model files.
enum SimProfiles {
    /// IDM Navigator: every point is read with FC04; the writable parameters (system mode, DHW
    /// setpoint) take FC16 (or FC06) writes at the same address. Absent functions answer −1.0 on
    /// FLOAT energy/power values, 255 on UCHAR modes/alarms/status and 65535 on the message word.
    static func idm(_ layout: SimLayout = SimLayout()) -> SimProfile {
        func f(_ name: String, _ a: Int, _ d: SimDynamics, absent: SimScalar? = nil) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .float32, order: .CDAB, dynamics: d, absent: absent)
        }
        func u8(_ name: String, _ a: Int, _ d: SimDynamics, writable: Bool = false) -> SimPoint {
            SimPoint(name: name, table: .input, address: a, type: .uint8, dynamics: d, writableViaHolding: writable, absent: .int(255))
        }
        let minusOne = SimScalar.real(-1)
        let blocks = idmBlocks(layout)
        var profile = SimProfile(name: "idm", points: [
            f("outdoor_temp", 1000, .outdoor), f("outdoor_temp_avg", 1002, .constant(4.5)),
            SimPoint(name: "internal_message", table: .input, address: 1004, type: .uint16, dynamics: .constant(0), absent: .uint(65535)),
            u8("system_mode", 1005, .constant(1), writable: true),
            f("storage_temp", 1008, .flow), f("dhw_temp_bottom", 1012, .dhw), f("dhw_temp_top", 1014, .dhw),
            u8("dhw_setpoint", 1032, .constant(50), writable: true),
            u8("dhw_charge_on_temp", 1033, .constant(46), writable: true), u8("dhw_charge_off_temp", 1034, .constant(52), writable: true),
            f("hp_flow_temp", 1050, .flow), f("hp_return_temp", 1052, .returnTemp),
            f("heat_source_inlet_temp", 1056, .constant(8.5)), f("heat_source_outlet_temp", 1058, .constant(5.25)),
            u8("hp_operating_mode", 1090, .operatingMode(on: 1, off: 0, defrost: 8)), u8("evu_lock", 1098, .constant(1)), u8("hp_sum_alarm", 1099, .constant(0)),
            u8("compressor_status_1", 1100, .compressor),
            SimPoint(name: "charging_pump_status", table: .input, address: 1104, type: .int16, dynamics: .whenRunning(on: 80, off: -1), absent: .int(-32768)),
            f("energy_heating", 1748, .counter(base: 15234, perHour: 6), absent: minusOne),
            f("energy_total", 1750, .counter(base: 18011, perHour: 7), absent: minusOne),
            f("energy_cooling", 1752, .counter(base: 412, perHour: 0.2), absent: minusOne),
            f("energy_dhw", 1754, .counter(base: 2777, perHour: 1), absent: minusOne),
            f("energy_defrost", 1756, .constant(95.5), absent: minusOne),
            f("energy_electric_heater", 1762, .constant(12.25), absent: minusOne),
            f("electrical_power", 4122, .power, absent: minusOne),
            f("current_power", 1790, .thermalPower, absent: minusOne),
            // Energy-manager inputs (PV surplus, PV production in kW), written with FC16.
            SimPoint(name: "pv_surplus", table: .input, address: 74, type: .float32, order: .CDAB, dynamics: .constant(0), writableViaHolding: true),
            SimPoint(name: "pv_production", table: .input, address: 78, type: .float32, order: .CDAB, dynamics: .constant(0), writableViaHolding: true),
            // Building-management demand temperatures: written by the EMS (FC16), read back with FC04.
            SimPoint(name: "glt_temp_demand_heating", table: .input, address: 1696, type: .float32, order: .CDAB, dynamics: .constant(0), writableViaHolding: true),
            SimPoint(name: "glt_temp_demand_cooling", table: .input, address: 1698, type: .float32, order: .CDAB, dynamics: .constant(0), writableViaHolding: true),
            // Error acknowledge: takes a write; reads as 0.
            SimPoint(name: "error_acknowledge", table: .input, address: 1999, type: .uint8, dynamics: .constant(0), writableViaHolding: true),
        ] + idmSystem + blocks.points)
        profile.absentAddresses = blocks.absent
        return profile
    }

    /// 50 registers for fleet benchmarks: 30 int16 inputs (every other address from 0), 10 float32
    /// holdings from 100, 10 uint16 inputs from 500 — three requests per poll when coalesced.
    static var bench: SimProfile {
        var points: [SimPoint] = []
        for i in 0..<30 { points.append(SimPoint(name: "t\(i)", table: .input, address: 2 * i, type: .int16, scale: 0.1, dynamics: i % 3 == 0 ? .outdoor : .constant(Double(i)))) }
        for i in 0..<10 { points.append(SimPoint(name: "f\(i)", table: .holding, address: 100 + 2 * i, type: .float32, dynamics: i % 2 == 0 ? .flow : .constant(Double(i) + 0.5))) }
        for i in 0..<10 { points.append(SimPoint(name: "u\(i)", table: .input, address: 500 + i, type: .uint16, dynamics: .counter(base: Double(1000 * i), perHour: 10))) }
        return SimProfile(name: "bench", points: points)
    }

    /// Every data type × byte order with known values, plus sentinels and bits. Tables answer 0..<1000.
    static var matrix: SimProfile {
        var points: [SimPoint] = []
        var address = 0
        let values: [(SimValueType, SimScalar)] = [
            (.int16, .int(-12345)), (.uint16, .uint(54321)),
            (.int32, .int(-1_234_567_890)), (.uint32, .uint(3_456_789_012)),
            (.int64, .int(-1_234_567_890_123_456)), (.uint64, .uint(12_345_678_901_234_567_890)),
            (.float32, .real(-273.125)), (.float64, .real(12345.6789)), (.float16, .real(-12.375)),
        ]
        for (type, value) in values {
            for order in SimOrder.allCases {
                points.append(SimPoint(name: "\(type.rawValue)_\(order.rawValue)", table: .holding, address: address, type: type,
                                       order: order, dynamics: .constant(value.real), exact: value))
                address += type.words
            }
        }
        points.append(SimPoint(name: "int8_low", table: .holding, address: 200, type: .int8, dynamics: .constant(-42), exact: .int(-42)))
        points.append(SimPoint(name: "uint8_low", table: .holding, address: 201, type: .uint8, dynamics: .constant(200), exact: .int(200)))
        points.append(SimPoint(name: "sentinel_8000", table: .holding, address: 210, type: .int16, dynamics: .constant(-32768), exact: .int(-32768)))
        points.append(SimPoint(name: "sentinel_ffff", table: .holding, address: 211, type: .uint16, dynamics: .constant(65535), exact: .uint(65535)))
        points.append(SimPoint(name: "sentinel_7fff", table: .holding, address: 212, type: .int16, dynamics: .constant(32767), exact: .int(32767)))
        points.append(SimPoint(name: "plain_100", table: .holding, address: 213, type: .int16, dynamics: .constant(100), exact: .int(100)))
        points.append(SimPoint(name: "bool_holding", table: .holding, address: 214, type: .bool, dynamics: .constant(1), exact: .int(1)))
        // Half precision at its edges: the largest finite value and the smallest subnormal.
        points.append(SimPoint(name: "float16_max", table: .holding, address: 216, type: .float16, dynamics: .constant(65504), exact: .real(65504)))
        points.append(SimPoint(name: "float16_tiny", table: .holding, address: 217, type: .float16, dynamics: .constant(0x1p-24), exact: .real(0x1p-24)))
        // Bit fields for `bit:` registers, one per byte order that changes which byte holds bit 0.
        points.append(SimPoint(name: "bits_ABCD", table: .holding, address: 220, type: .uint16, dynamics: .constant(0xA5C3), exact: .uint(0xA5C3)))
        points.append(SimPoint(name: "bits_BADC", table: .holding, address: 221, type: .uint16, order: .BADC, dynamics: .constant(0x1E81), exact: .uint(0x1E81)))
        // Text: space-padded, NUL-padded, multi-byte UTF-8, and one cut to its registers, in every byte order.
        var textAddress = 300
        for (label, text, length) in [("version", "HPM-2.14.4  ", 8), ("name", "Navigator", 6), ("utf8", "Wärmepumpe", 8), ("cut", "ABCDEFG", 3)] {
            for order in SimOrder.allCases {
                points.append(SimPoint(name: "string_\(label)_\(order.rawValue)", table: .holding, address: textAddress, type: .string, order: order,
                                       dynamics: .constant(0), exact: .text(text), length: length))
                textAddress += length
            }
        }
        points.append(SimPoint(name: "in_int16", table: .input, address: 0, type: .int16, dynamics: .constant(-321), exact: .int(-321)))
        points.append(SimPoint(name: "in_uint32_CDAB", table: .input, address: 1, type: .uint32, order: .CDAB, dynamics: .constant(305_419_896), exact: .uint(305_419_896)))
        points.append(SimPoint(name: "in_float32_ABCD", table: .input, address: 3, type: .float32, dynamics: .constant(21.5), exact: .real(21.5)))
        for (a, on) in [(0, true), (1, false), (2, true), (10, true)] {
            points.append(SimPoint(name: "coil_\(a)", table: .coil, address: a, type: .bool, dynamics: .constant(on ? 1 : 0), exact: .int(on ? 1 : 0)))
        }
        for (a, on) in [(0, true), (1, false), (5, true)] {
            points.append(SimPoint(name: "discrete_\(a)", table: .discrete, address: a, type: .bool, dynamics: .constant(on ? 1 : 0), exact: .int(on ? 1 : 0)))
        }
        return SimProfile(name: "matrix", points: points,
                          extraWindows: [.holding: 0..<1000, .input: 0..<1000, .coil: 0..<1000, .discrete: 0..<1000])
    }
}
