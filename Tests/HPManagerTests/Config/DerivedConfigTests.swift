import Drivers
import Foundation
import HPCore
import Testing

/// `derived:` in a model: which registers feed COP, SCOP, compressor cycles and defrost, checked at load.
@Suite("Model derived: section", .harnessThreads)
struct DerivedConfigTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])
    static let model = """
        models:
          m:
            registers:
              - {name: heat, address: 1, unit: kw}
              - {name: elec, address: 2, unit: w}
              - {name: t1, address: 3, unit: celsius}
              - {name: mode, address: 4, unit: enum, enum_values: {0: "off", 8: defrost}}
              - {name: energy, address: 5, data_type: uint32, unit: kwh}
              - {name: label, address: 7, data_type: string, length: 2}
              - {name: compressor_starts_total, address: 10}

        """

    @Test("unknown keys, missing or unfit registers, incomplete sections and collisions are rejected at their line",
          arguments: [
              ("    derived:\n      cop: {thermal_power: heat, electrical_power: nope}\n", 12, "electrical_power names register \"nope\", which model m does not have"),
              ("    derived:\n      cop: {thermal_power: t1, electrical_power: elec}\n", 12, "thermal_power needs a register in kw or w; \"t1\" has unit \"celsius\""),
              ("    derived:\n      cop:\n        thermal_power: heat\n        electric_power: elec\n", 14, "unknown key 'electric_power' (did you mean 'electrical_power'?)"),
              ("    derived:\n      copp: {}\n", 12, "unknown key 'copp'"),
              ("    derived:\n      cop: {electrical_power: elec, flow_temp: t1}\n", 12, "cop needs thermal_power, or all of flow_rate, flow_temp and return_temp"),
              ("    derived:\n      cop: {flow_rate: heat, flow_temp: t1, return_temp: t1, electrical_power: elec}\n", 12, "flow_rate needs a register in"),
              ("    derived:\n      cop: {thermal_power: heat, electrical_power: elec, fluid: brine}\n", 12, "unknown fluid \"brine\""),
              ("    derived:\n      defrost: {active: mode, values: [thaw]}\n", 12, "defrost value \"thaw\" is neither a number nor a label of mode (off, defrost)"),
              ("    derived:\n      defrost: {active: label}\n", 12, "active names register \"label\", which holds text"),
              ("    derived:\n      compressor: {running: t1, frequency: t1}\n", 12, "compressor needs exactly one of running"),
              ("    derived:\n      scop: {heat_energy: energy}\n", 12, "scop needs heat_energy (and dhw_energy where separate) and electrical_energy"),
              ("    derived:\n      scop: {heat_energy: energy, electrical_energy: heat}\n", 12, "electrical_energy needs a register in kwh or mwh or wh; \"heat\" has unit \"kw\""),
              ("    derived:\n      compressor: {running: t1}\n", 12, "derived compressor exports heatpump_compressor_starts_total, which register \"compressor_starts_total\""),
              ("    derived:\n      compressor: {running: t1, operating_hours: energy}\n", 12, "operating_hours needs a register in"),
              ("    derived:\n      defrost: {flow_temp: t1}\n", 12, "defrost needs active: the register that shows a defrost, or flow_temp and return_temp"),
              ("    derived:\n      defrost: {flow_temp: t1, return_temp: t1}\n", 12, "defrost from ΔT reversal (flow_temp, return_temp) needs a compressor section"),
              ("    derived:\n      defrost: {active: mode, min_duration: 1m}\n", 12, "min_duration applies to defrost from ΔT reversal"),
              ("    derived:\n      defrost: {active: mode, flow_rate: heat}\n", 12, "flow_rate needs a register in"),
              ("    derived:\n      compressor: {running: t1, service_interval: 10m}\n", 12, "service_interval"),
              ("    derived:\n      scop: {dhw_energy: energy, heating_electrical_energy: energy, electrical_energy: energy}\n", 12,
               "heating_electrical_energy needs heat_energy: the heat counter for heating"),
              ("    derived:\n      scop: {heat_energy: energy, dhw_electrical_energy: energy, electrical_energy: energy}\n", 12,
               "dhw_electrical_energy needs dhw_energy: the heat counter for hot water"),
              ("    derived:\n      scop: {heat_energy: energy, dhw_energy: energy, heating_electrical_energy: energy}\n", 12,
               "electrical_energy counters, or heating_electrical_energy and dhw_electrical_energy"),
          ])
    func rejects(_ derived: String, _ line: Int, _ fragment: String) {
        expectRegistersRejected(loader, registers: Self.model + derived, line: line, fragment: fragment, fragment)
    }

    @Test("a valid section resolves with unit factors, wrap moduli and enum labels; a child model inherits and may replace sections")
    func resolves() throws {
        // Without the register that collides with compressor_starts_total.
        let text = Self.model.replacingOccurrences(of: "      - {name: compressor_starts_total, address: 10}\n",
                                                   with: "      - {name: hours, address: 11, data_type: uint32, unit: hours}\n      - {name: minutes, address: 13, data_type: uint32, unit: min}\n") + """
                derived:
                  cop: {thermal_power: heat, electrical_power: elec}
                  scop: {heat_energy: [energy], electrical_energy: energy, max_power: 40}
                  compressor: {running: t1, max_starts_per_hour: 4, min_median_run: 5m, service_interval: 8000h, operating_hours: [hours, minutes]}
                  defrost: {active: mode, values: [defrost, 3]}
              child:
                extends: m
                derived:
                  cop: {flow_rate: heat, flow_temp: t1, return_temp: t1, electrical_power: elec, fluid: propylene_glycol_30}
                registers:
                  - {name: heat, address: 1, unit: l/h}

            """
        let models = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": text]).models
        let m = try #require(models["m"]?.derived)
        #expect(m.cop == .power(thermal: DerivedInput(register: "heat", factor: 1), electrical: DerivedInput(register: "elec", factor: 0.001)))
        #expect(m.scop?.maxPowerKW == 40 && m.scop?.wrapAt["energy"] == 4_294_967_296)
        #expect(m.compressor?.maxStartsPerHour == 4 && m.compressor?.minMedianRunSeconds == 300 && m.compressor?.source == .running)
        #expect(m.compressor?.serviceIntervalHours == 8000
                && m.compressor?.operatingHours == [DerivedInput(register: "hours"), DerivedInput(register: "minutes", factor: 1.0 / 60)])
        #expect(m.defrost?.values == [8, 3])
        let child = try #require(models["child"]?.derived)
        #expect(child.cop == .flow(flowRate: DerivedInput(register: "heat", factor: 1.0 / 60), flowTemp: DerivedInput(register: "t1"),
                                   returnTemp: DerivedInput(register: "t1"), electrical: DerivedInput(register: "elec", factor: 0.001),
                                   fluid: DerivedFluid(glycol: .propylene, fraction: 0.3)))
        #expect(child.defrost == m.defrost && child.scop == m.scop, "sections the child does not name are inherited")
    }

    @Test("scop split per use: heating and hot water each with their electricity; the total's electricity is its own counter or both uses'")
    func scopSplit() throws {
        let text = """
            models:
              m:
                registers:
                  - {name: heat, address: 1, data_type: uint32, unit: kwh}
                  - {name: dhw, address: 3, data_type: uint32, unit: kwh}
                  - {name: elec_heat, address: 5, data_type: uint32, unit: wh}
                  - {name: elec_dhw, address: 7, data_type: uint32, unit: wh}
                  - {name: elec, address: 9, data_type: uint32, unit: kwh}
                derived:
                  scop: {heat_energy: heat, dhw_energy: dhw, heating_electrical_energy: elec_heat, dhw_electrical_energy: elec_dhw}
              total:
                extends: m
                derived:
                  scop: {heat_energy: heat, dhw_energy: dhw, electrical_energy: elec, dhw_electrical_energy: elec_dhw}

            """
        let models = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": text]).models
        let m = try #require(models["m"]?.derived.scop)
        let heat = DerivedInput(register: "heat"), dhw = DerivedInput(register: "dhw")
        let elecHeat = DerivedInput(register: "elec_heat", factor: 0.001), elecDHW = DerivedInput(register: "elec_dhw", factor: 0.001)
        #expect(m.heat == [heat, dhw] && m.electrical == [elecHeat, elecDHW], "no total counter: both uses' electricity")
        #expect(m.uses == [SCOPUse(name: "heating", heat: [heat], electrical: [elecHeat]), SCOPUse(name: "dhw", heat: [dhw], electrical: [elecDHW])])
        #expect(m.wrapAt["elec_dhw"] == 4_294_967_296 * 0.001)
        let total = try #require(models["total"]?.derived.scop)
        #expect(total.electrical == [DerivedInput(register: "elec")] && total.uses.map(\.name) == ["dhw"], "only hot water has its own electricity")
        #expect(total.counters.map(\.register) == ["heat", "dhw", "elec", "elec_dhw"], "each counter read once")
    }

    @Test("built-in models declare what their registers allow")
    func builtin() throws {
        let models = try ConfigLoader(builtinModelFiles: BuiltinModels.files).load(files: ["heatpumps.yml": "heatpumps: []\n"]).models
        let idm = try #require(models["idm_navigator_2"]?.derived)
        #expect(idm.cop == .power(thermal: DerivedInput(register: "current_power"), electrical: DerivedInput(register: "electrical_power")))
        #expect(idm.compressor?.register.register == "compressor_status_1" && idm.defrost?.values == [8] && idm.scop == nil)
        let nibe = try #require(models["nibe_s1155"]?.derived)
        #expect(nibe.scop?.heat.map(\.register) == ["total_production"] && nibe.scop?.electrical.map(\.register) == ["total_consumption"])
        #expect(nibe.scop?.uses == [], "NIBE's per-use energy is the past hour's, not a counter: total only")
        #expect(nibe.compressor?.source == .frequency && nibe.defrost == nil)
        #expect(nibe.compressor?.operatingHours == [DerivedInput(register: "compressor_runtime")] && nibe.compressor?.serviceIntervalHours == nil)
        #expect(nibe.defrostReversal == DefrostReversalInputs(flowTemp: DerivedInput(register: "supply_temp"), returnTemp: DerivedInput(register: "return_temp"),
                                                              minDurationSeconds: 120), "no defrost register: ΔT reversal")
        #expect(nibe.defrostEnergy?.flowRate.register == "flow_rate", "the defrost's heat from the COP's flow sensor")
        #expect(models["daikin_altherma"]?.derived.defrostEnergy?.returnTemp.register == "return_water_temp")
        #expect(models["idm_navigator_2"]?.derived.defrostEnergy == nil, "IDM's COP is from power registers: no flow for defrost energy")
        if case .flow(let flow, _, _, let electrical, let fluid)? = nibe.cop {
            #expect(flow.register == "flow_rate" && electrical.register == "power_consumption" && fluid == .water)
        } else {
            Issue.record("NIBE COP from the flow: \(String(describing: nibe.cop))")
        }
        #expect(models["daikin_altherma"]?.derived.defrost?.register.register == "defrost_active")
        #expect(models["luxtronik_2_1"]?.derived.defrost?.values == [4] && models["luxtronik_2_1"]?.derived.compressor == nil)
        #expect(models["stiebel_eltron_wpm"]?.derived.compressor?.register.register == "compressor_1")
        #expect(models["stiebel_eltron_wpm"]?.derived.compressor?.operatingHours.map(\.register)
                == ["runtime_compressor_heating", "runtime_compressor_dhw", "runtime_compressor_cooling"])
        let lux = try #require(models["luxtronik_2_1"]?.derived.scop)
        #expect(lux.uses.map { "\($0.name): \($0.heat.map(\.register)) / \($0.electrical.map(\.register))" }
                == ["heating: [\"thermal_energy_heating\"] / [\"electric_energy_heating\"]", "dhw: [\"thermal_energy_dhw\"] / [\"electric_energy_dhw\"]"])
        #expect(lux.electrical.map(\.register) == ["electric_energy_heating", "electric_energy_dhw"], "cooling and pool are not in the total")
        let stiebel = try #require(models["stiebel_eltron_wpm"]?.derived.scop)
        #expect(stiebel.uses.map(\.name) == ["heating", "dhw"])
        #expect(stiebel.uses.first?.heat == [DerivedInput(register: "heat_meter_heating_total_kwh_part"), DerivedInput(register: "heat_meter_heating_total_mwh_part", factor: 1000)],
                "kWh part + MWh part × 1000")
    }
}
