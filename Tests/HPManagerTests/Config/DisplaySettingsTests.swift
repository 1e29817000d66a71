import Drivers
import HPCore
import Testing
import TestSupport

/// `display.yml`: HPManager's ranges and keys, fields checked against each heat pump's model.
@Suite("display.yml", .harnessThreads)
struct DisplaySettingsTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])
    static let devices = "heatpumps:\n  - {id: hp1, model: nibe_s1155, modbus: {host: h}}\n"

    func load(_ display: String) throws -> Configuration {
        try loader.load(files: ["heatpumps.yml": Self.devices, "display.yml": display], directory: "/etc/hpm")
    }

    struct BadCase: Sendable, CustomStringConvertible {
        var description: String
        var text: String
        var line: Int
        var fragment: String
    }

    static let badCases: [BadCase] = [
        BadCase(description: "refresh too fast", text: "refresh_interval: 1\n", line: 1, fragment: "refresh_interval: must be between 5 and 120, found 1"),
        BadCase(description: "sparkline too long", text: "refresh_interval: 10\nsparkline_minutes: 100000\n", line: 2, fragment: "must be between 5 and 480"),
        BadCase(description: "huge number", text: "sparkline_minutes: 99999999999999999999999\n", line: 1, fragment: "expected an integer"),
        BadCase(description: "unknown key (typo)", text: "refresh_interval: 10\nvisible_feilds: {}\n", line: 2,
                fragment: "unknown key 'visible_feilds' (did you mean 'visible_fields'?)"),
        BadCase(description: "unknown register", text: "visible_fields:\n  hp1:\n    - outdoor_temp\n    - outdor_temp\n", line: 4,
                fragment: "model nibe_s1155 of heat pump hp1 has no register or bitmap field \"outdor_temp\" (did you mean 'outdoor_temp'?)"),
        BadCase(description: "field listed twice", text: "visible_fields:\n  hp1: [outdoor_temp,\n    outdoor_temp]\n", line: 3,
                fragment: "\"outdoor_temp\" is already listed at line 2"),
        BadCase(description: "fields not a list", text: "visible_fields:\n  hp1: {a: b}\n", line: 2, fragment: "expected a list"),
        BadCase(description: "per-pump sparkline out of range", text: "sparkline_minutes_per_pump:\n  hp1: 1000\n", line: 2, fragment: "must be between 5 and 480"),
        BadCase(description: "not a mapping", text: "- 1\n- 2\n", line: 1, fragment: "expected a mapping"),
    ]

    @Test("invalid display.yml is rejected with file, line and reason", arguments: badCases)
    func rejects(_ bad: BadCase) throws {
        do {
            _ = try load(bad.text)
            Issue.record("expected \(bad.description) to be rejected")
        } catch let errors as ConfigErrors {
            let match = errors.errors.first { $0.file == "/etc/hpm/display.yml" && $0.description.contains(bad.fragment) }
            #expect(match != nil, "got: \(errors.description)")
            #expect(match?.line == bad.line, "line of \(String(describing: match))")
        }
    }

    @Test("defaults without the file; HPManager's keys with values; unknown heat pumps and the old flat list only warn")
    func values() throws {
        let none = try loader.load(files: ["heatpumps.yml": Self.devices])
        #expect(none.display == DisplaySettings() && none.display.refreshInterval == 10 && none.display.sparklineMinutes == 30)
        let config = try load("""
        refresh_interval: ${REFRESH:-15}
        sparkline_minutes: 120
        sparkline_minutes_per_pump: {hp1: 240, hp7: 60}
        visible_fields:
          hp1: [outdoor_temp, supply_temp]
          hp9: [anything]
          hp2:
        """)
        #expect(config.display.refreshInterval == 15 && config.display.sparklineMinutes == 120)
        #expect(config.display.sparklineMinutes(for: "hp1") == 240 && config.display.sparklineMinutes(for: "hpX") == 120)
        #expect(config.display.visibleFields(for: "hp1") == ["outdoor_temp", "supply_temp"])
        #expect(config.display.visibleFields(for: "hp2") == [])
        #expect(config.warnings.map(\.line) == [6, 7, 3], "\(config.warnings)")
        #expect(config.warnings.first?.description.contains("no heat pump \"hp9\" in heatpumps.yml") == true)
        let flat = try load("visible_fields:\n  - outdoor_temp\n")
        #expect(flat.display.visibleFields.isEmpty)
        #expect(flat.warnings.first?.description.contains("HPManager's old layout") == true)
    }

    @Test("hpmanagerd --check rejects a bad display.yml with file:line and prints warnings")
    func check() async throws {
        let dir = try TemporaryDirectory(prefix: "hpm-display-check")
        try dir.write("heatpumps.yml", Self.devices)
        try dir.write("display.yml", "visible_fields:\n  hp1: [outdoor_temp, nope]\n")
        let bad = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", dir.path, "--check"])
        #expect(bad.waitForExit(timeout: 30) == 78)
        let error = "display.yml:2: visible_fields.hp1[1]: model nibe_s1155 of heat pump hp1 has no register or bitmap field \"nope\""
        _ = try await eventually("the error on stderr", timeout: 5) { bad.stderr.transcript.joined(separator: "\n").contains(error) ? true : nil }
        try dir.write("display.yml", "visible_fields:\n  hp9: [x]\n")
        let warned = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", dir.path, "--check"])
        #expect(warned.waitForExit(timeout: 30) == 0)
        let warning = "warning: \(dir.path)/display.yml:2: visible_fields.hp9: no heat pump"
        _ = try await eventually("the warning on stderr", timeout: 5) { warned.stderr.transcript.joined(separator: "\n").contains(warning) ? true : nil }
    }
}
