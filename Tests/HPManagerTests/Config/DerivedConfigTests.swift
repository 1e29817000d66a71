import Drivers
import Foundation
import HPCore
import Testing

/// `derived:` in a model: which registers feed COP, SCOP, compressor cycles and defrost, checked at load.
@Suite("Model derived: section")
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
          ])
    func rejects(_ derived: String, _ line: Int, _ fragment: String) {
        expectRegistersRejected(loader, registers: Self.model + derived, line: line, fragment: fragment, fragment)
    }

    @Test("a valid section resolves with unit factors, wrap moduli and enum labels; a child model inherits and may replace sections")
    func resolves() throws {
        // Without the register that collides with compressor_starts_total.
        let text = Self.model.replacingOccurrences(of: "      - {name: compressor_starts_total, address: 10}\n", with: "") + """
                derived:
                  cop: {thermal_power: heat, electrical_power: elec}
                  scop: {heat_energy: [energy], electrical_energy: energy, max_power: 40}
                  compressor: {running: t1, max_starts_per_hour: 4, min_median_run: 5m}
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
        #expect(m.defrost?.values == [8, 3])
        let child = try #require(models["child"]?.derived)
        #expect(child.cop == .flow(flowRate: DerivedInput(register: "heat", factor: 1.0 / 60), flowTemp: DerivedInput(register: "t1"),
                                   returnTemp: DerivedInput(register: "t1"), electrical: DerivedInput(register: "elec", factor: 0.001),
                                   fluid: DerivedFluid(glycol: .propylene, fraction: 0.3)))
        #expect(child.defrost == m.defrost && child.scop == m.scop, "sections the child does not name are inherited")
    }

    @Test("built-in models declare what their registers allow")
    func builtin() throws {
        let models = try ConfigLoader(builtinModelFiles: BuiltinModels.files).load(files: ["heatpumps.yml": "heatpumps: []\n"]).models
        let idm = try #require(models["idm_navigator_2"]?.derived)
        #expect(idm.cop == .power(thermal: DerivedInput(register: "current_power"), electrical: DerivedInput(register: "electrical_power")))
        #expect(idm.compressor?.register.register == "compressor_status_1" && idm.defrost?.values == [8] && idm.scop == nil)
        let nibe = try #require(models["nibe_s1155"]?.derived)
        #expect(nibe.scop?.heat.map(\.register) == ["total_production"] && nibe.scop?.electrical.map(\.register) == ["total_consumption"])
        #expect(nibe.compressor?.source == .frequency && nibe.defrost == nil)
        if case .flow(let flow, _, _, let electrical, let fluid)? = nibe.cop {
            #expect(flow.register == "flow_rate" && electrical.register == "power_consumption" && fluid == .water)
        } else {
            Issue.record("NIBE COP from the flow: \(String(describing: nibe.cop))")
        }
        #expect(models["daikin_altherma"]?.derived.defrost?.register.register == "defrost_active")
        #expect(models["luxtronik_2_1"]?.derived.defrost?.values == [4] && models["luxtronik_2_1"]?.derived.compressor == nil)
        #expect(models["stiebel_eltron_wpm"]?.derived.compressor?.register.register == "compressor_1")
    }
}
