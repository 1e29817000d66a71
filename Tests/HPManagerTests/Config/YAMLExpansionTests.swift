import HPCore
import Testing

/// Aliases in YAML ("billion laughs"): refused before Yams composes (and hashes keys), in time
/// linear in the text, wherever the alias hides (plain, flow-collection or explicit keys, values).
@Suite("Config: YAML alias expansion", .harnessThreads)
struct YAMLExpansionTests {
    let loader = ConfigLoader(builtinModelFiles: [], environment: [:])

    /// `levels` anchors, each a list of two aliases of the one before: the last expands to 2^levels leaves.
    static func laughs(_ levels: Int, use: String) -> String {
        var text = "heatpumps: []\nanchors:\n  x0: &a0 [lol, lol]\n"
        for level in 1..<levels { text += "  x\(level): &a\(level) [*a\(level - 1), *a\(level - 1)]\n" }
        return text + use.replacingOccurrences(of: "LAST", with: "*a\(levels - 1)") + "\n"
    }

    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var use: String
        var message: String
    }

    static let bombs: [Case] = [
        Case(description: "flow sequence as a key", use: "  [LAST]: 1", message: "aliases expand this document beyond 1000000 nodes; write the values out instead"),
        Case(description: "explicit key holding a flow sequence", use: "  ? [LAST]\n  : 1", message: "aliases expand this document beyond 1000000 nodes; write the values out instead"),
        Case(description: "flow mapping as a key", use: "  {k: LAST}: 1", message: "aliases expand this document beyond 1000000 nodes; write the values out instead"),
        Case(description: "value", use: "  y: LAST", message: "aliases expand this document beyond 1000000 nodes; write the values out instead"),
    ]

    /// 22 levels took 4.3 s before the guard (Yams hashing the key), 40 would take days.
    @Test("nested aliases (22 and 40 levels) are refused in well under a second, with the line", arguments: bombs, [22, 40])
    func refusedFast(_ bomb: Case, levels: Int) throws {
        let text = Self.laughs(levels, use: bomb.use)
        let started = ContinuousClock.now
        let errors = try #require(throws: ConfigErrors.self) { try loader.load(files: ["heatpumps.yml": text]) }
        // Linear work: milliseconds, whatever the depth.
        #expect(ContinuousClock.now - started < .seconds(1))
        let error = try #require(errors.errors.first)
        #expect(error.file.hasSuffix("heatpumps.yml"))
        #expect(error.message == bomb.message, "\(error)")
        // The first node past the bound: anchor a18 (2^20 - 1 nodes expanded) on line 21.
        #expect(error.line == 21, "\(error)")
    }

    @Test("a small alias inside a flow or explicit key is refused as a key")
    func aliasInsideKey() throws {
        for (yaml, line) in [("a: &a [1]\n[*a]: 1\n", 2), ("a: &a 1\n? [x, {y: *a}]\n: 1\n", 2), ("a: &a 1\nb: {[*a]: 1}\n", 2)] {
            let errors = try #require(throws: ConfigErrors.self) {
                try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "display.yml": yaml])
            }
            #expect(errors.errors.first?.message == "an alias (*name) as a mapping key is not supported", "\(yaml)")
            #expect(errors.errors.first?.line == line, "\(yaml)")
        }
    }

    @Test("aliases as values below the bound still load")
    func allowedAliases() throws {
        let registers = """
            models:
              m:
                registers:
                  - {name: mode, address: 1, enum_values: &modes {0: "off", 1: heat, 2: cool}}
                  - {name: mode2, address: 2, enum_values: *modes}
            """
        let devices = """
            heatpumps:
              - {id: hp1, name: a, model: m, modbus: &link {type: tcp, host: 127.0.0.1, port: 502, unit_id: 1}}
              - {id: hp2, name: b, model: m, modbus: *link}
            """
        // 16 levels: 131,070 nodes through aliases, under the bound; the unknown key is the only error.
        let display = Self.laughs(16, use: "").replacingOccurrences(of: "heatpumps: []\n", with: "")
        let config = try loader.load(files: ["heatpumps.yml": devices, "registers.yml": registers])
        #expect(config.devices.map(\.id) == ["hp1", "hp2"])
        let errors = try #require(throws: ConfigErrors.self) {
            try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "display.yml": display])
        }
        #expect(errors.errors.first?.message.contains("anchors") == true, "\(errors)")
    }
}
