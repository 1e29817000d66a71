import Drivers
import Foundation
import HPCore
import Testing

/// `derived: comfort:` in a model: supply vs heating curve, hot water vs setpoint, degree-minutes.
@Suite("Model derived: comfort section", .harnessThreads)
struct ComfortConfigTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])
    static let model = """
        models:
          m:
            registers:
              - {name: supply, address: 1, unit: celsius}
              - {name: target, address: 2, unit: celsius}
              - {name: outdoor, address: 3, unit: celsius}
              - {name: mode, address: 4, unit: enum, enum_values: {0: "off", 30: heating}}
              - {name: tank, address: 5, unit: celsius}
              - {name: power, address: 6, unit: kw}
            templates:
              circuits:
                label: circuit
                instances: [A, B]
                default: [A]
                registers:
                  - {name: flow_setpoint, address: 100, stride: 2, unit: celsius}

        """

    @Test("incomplete, contradictory or unfit comfort sections are rejected at their line",
          arguments: [
              ("    derived:\n      comfort: {supply_temp: supply}\n", 18, "supply_temp needs its target: supply_target (a register), or curve with outdoor_temp"),
              ("    derived:\n      comfort: {supply_temp: supply, supply_target: target, outdoor_temp: outdoor}\n", 18, "comfort takes supply_target"),
              ("    derived:\n      comfort: {supply_temp: supply, curve: [[-10, 45], [15, 30]]}\n", 18, "curve needs outdoor_temp"),
              ("    derived:\n      comfort: {supply_temp: supply, outdoor_temp: outdoor, curve: [[-10, 45]]}\n", 18, "curve needs at least two points"),
              ("    derived:\n      comfort: {supply_temp: supply, outdoor_temp: outdoor, curve: [[10, 45], [-5, 30]]}\n", 18, "rising outdoor temperature"),
              ("    derived:\n      comfort: {supply_temp: supply, outdoor_temp: outdoor, curve: [[10, 45, 3], [15, 30]]}\n", 18, "a curve point is [outdoor °C, supply °C]"),
              ("    derived:\n      comfort: {supply_temp: supply, outdoor_temp: outdoor, curve: [[10, 450], [15, 30]]}\n", 18, "450"),
              ("    derived:\n      comfort: {supply_temp: power, supply_target: target}\n", 18, "supply_temp needs a register in"),
              ("    derived:\n      comfort: {supply_temp: supply, supply_target: target, heating: mode, heating_values: [cooling]}\n", 18,
               "heating value \"cooling\" is neither a number nor a label of mode (off, heating)"),
              ("    derived:\n      comfort: {supply_temp: supply, supply_target: target, heating_values: [heating]}\n", 18, "heating_values apply to comfort.heating only"),
              ("    derived:\n      comfort: {supply_target: target}\n", 18, "supply_target applies to the supply comparison, which needs supply_temp"),
              ("    derived:\n      comfort: {dhw_temp: tank}\n", 18, "dhw_temp needs dhw_setpoint"),
              ("    derived:\n      comfort: {dhw_setpoint: 48}\n", 18, "the hot-water comparison needs dhw_temp"),
              ("    derived:\n      comfort: {dhw_temp: tank, dhw_setpoint: 480}\n", 18, "480"),
              ("    derived:\n      comfort: {dhw_temp: tank, dhw_setpoint: 48, dhw_margin: 40}\n", 18, "dhw_margin must be at most 30 K"),
              ("    derived:\n      comfort: {dhw_temp: tank, dhw_setpoint: nope}\n", 18, "dhw_setpoint names register \"nope\", which model m does not have"),
              ("    derived:\n      comfort: {supply_temp: supply, supply_target: flow_setpoint}\n", 18,
               "supply_target names register \"flow_setpoint\", which model m does not have (a template register feeds a formula by one instance's name, e.g. \"circuit_a.flow_setpoint\")"),
              ("    derived:\n      comfort: {}\n", 18, "comfort needs supply_temp"),
              ("    derived:\n      comfort: {dhw_temperature: tank}\n", 18, "unknown key 'dhw_temperature'"),
          ])
    func rejects(_ derived: String, _ line: Int, _ fragment: String) {
        expectRegistersRejected(loader, registers: Self.model + derived, line: line, fragment: fragment, fragment)
    }

    @Test("a comfort series a register already exports is refused; a degree-minutes register named like the series is that series")
    func collisions() throws {
        let clash = Self.model.replacingOccurrences(of: "      - {name: power, address: 6, unit: kw}\n", with: "      - {name: dhw_below_setpoint, address: 6}\n")
            + "    derived:\n      comfort: {dhw_temp: tank, dhw_setpoint: 48}\n"
        expectRegistersRejected(loader, registers: clash, line: 18, fragment: "derived comfort exports heatpump_dhw_below_setpoint, which register \"dhw_below_setpoint\"", "clash")
        let same = Self.model.replacingOccurrences(of: "      - {name: power, address: 6, unit: kw}\n", with: "      - {name: degree_minute_balance, address: 6}\n")
            + "    derived:\n      comfort: {degree_minutes: degree_minute_balance}\n"
        let models = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": same]).models
        #expect(models["m"]?.derived.comfort?.degreeMinutes == DerivedInput(register: "degree_minute_balance"))
    }

    @Test("a register target with a heating condition, a declared curve, a fixed or register setpoint, a template instance as the target")
    func resolves() throws {
        let text = Self.model + """
                derived:
                  comfort: {supply_temp: supply, supply_target: circuit_a.flow_setpoint, heating: mode, heating_values: [heating],
                            dhw_temp: tank, dhw_setpoint: 48, dhw_margin: 5, degree_minutes: power}
              curve:
                extends: m
                derived:
                  comfort: {supply_temp: supply, outdoor_temp: outdoor, curve: [[-15, 50], [0, 40], [20, 25]], dhw_temp: tank, dhw_setpoint: target}

            """
        let models = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "registers.yml": text]).models
        let m = try #require(models["m"]?.derived.comfort)
        #expect(m.supply == SupplyCurveInputs(temp: DerivedInput(register: "supply"), target: .register(DerivedInput(register: "circuit_a.flow_setpoint")),
                                              heating: DerivedCondition(register: DerivedInput(register: "mode"), values: [30])))
        #expect(m.dhw == DHWComfortInputs(temp: DerivedInput(register: "tank"), setpoint: .fixed(48), margin: 5))
        #expect(m.degreeMinutes == DerivedInput(register: "power"))
        let c = try #require(models["curve"]?.derived.comfort)
        #expect(c.supply?.target == .curve(outdoor: DerivedInput(register: "outdoor"),
                                           points: [CurvePoint(outdoor: -15, supply: 50), CurvePoint(outdoor: 0, supply: 40), CurvePoint(outdoor: 20, supply: 25)]))
        #expect(c.supply?.heating == nil && c.dhw?.setpoint == .register(DerivedInput(register: "target")) && c.dhw?.margin == 0 && c.degreeMinutes == nil)
        #expect(try #require(models["curve"]?.derived.seriesNames).contains("supply_target_celsius"), "a declared curve exports its target")
        #expect(try #require(models["m"]?.derived.seriesNames).contains("supply_target_celsius") == false)
    }

    @Test("built-in models compare what their registers allow")
    func builtin() throws {
        let models = try ConfigLoader(builtinModelFiles: BuiltinModels.files).load(files: ["heatpumps.yml": "heatpumps: []\n"]).models
        let nibe = try #require(models["nibe_s1155"]?.derived.comfort)
        #expect(nibe.supply?.target == .register(DerivedInput(register: "climate_system_1.supply_setpoint")) && nibe.supply?.heating?.values == [30])
        #expect(nibe.dhw?.setpoint == .register(DerivedInput(register: "hot_water_start_temp_normal")) && nibe.degreeMinutes?.register == "degree_minute_balance")
        let idm = try #require(models["idm_navigator_2"]?.derived.comfort)
        #expect(idm.supply?.temp.register == "circuit_a.flow_temp" && idm.supply?.heating == DerivedCondition(register: DerivedInput(register: "circuit_a.active_mode"), values: [1]))
        #expect(idm.dhw?.setpoint == .register(DerivedInput(register: "dhw_charge_on_temp")))
        let lux = try #require(models["luxtronik_2_1"]?.derived.comfort)
        #expect(lux.supply?.temp.register == "return_temp" && lux.supply?.heating?.values == [0] && lux.dhw?.margin == 5)
        #expect(models["daikin_altherma"]?.derived.comfort?.supply == nil && models["daikin_altherma"]?.derived.comfort?.dhw?.temp.register == "dhw_temp")
        #expect(models["stiebel_eltron_wpm"]?.derived.comfort?.supply?.heating == nil && models["stiebel_eltron_wpm"]?.derived.comfort?.dhw?.margin == 5)
    }
}
