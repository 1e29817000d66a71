import Drivers
import Foundation
import HPCore
import Testing

/// The four config parsers against mutated valid files: every input loads or fails with located
/// `ConfigErrors`, never a trap, another error type or a hang.
@Suite("Fuzz: configuration parsers", .harnessThreads)
struct ConfigFuzzTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: ["INFLUXDB_TOKEN": "t", "HPSIM_HOST": "127.0.0.1"])
    /// Without the built-in models a load takes ~5 ms instead of ~60 ms (debug build): the mutated
    /// file is what is under test, and the seed sets with their own models still reach every stage.
    let fastLoader = ConfigLoader(builtinModelFiles: [], environment: ["INFLUXDB_TOKEN": "t", "HPSIM_HOST": "127.0.0.1"])

    static var repoConfig: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config").path
    }

    /// Valid file sets: HPManager's real files, the repository's config/, the test fixtures.
    static func seedSets() throws -> [[String: String]] {
        func files(_ dir: String) throws -> [String: String] {
            var result: [String: String] = [:]
            for name in ["heatpumps.yml", "registers.yml", "collector.yml", "display.yml"] {
                if let text = try? String(contentsOfFile: dir + "/" + name, encoding: .utf8) { result[name] = text }
            }
            return result
        }
        var sets = [try files(HPManagerFixtures.directory), try files(repoConfig)]
        sets.append(["heatpumps.yml": ConfigFixtures.hpmanagerDevices, "registers.yml": ConfigFixtures.hpmanagerRegisters,
                     "collector.yml": ConfigFixtures.hpmanagerCollector])
        // Strings, single bits and float16, so mutations reach their validation.
        sets.append(["heatpumps.yml": "heatpumps: []\n", "registers.yml": TypedRegistersEndToEndTests.registersYAML])
        // The built-in model files are registers.yml files too.
        for (_, text) in BuiltinModels.files { sets.append(["heatpumps.yml": "heatpumps: []\n", "registers.yml": text]) }
        return sets
    }

    @Test("seeds are valid", arguments: 0..<((try? seedSets().count) ?? 0))
    func seedsLoad(_ index: Int) throws {
        _ = try loader.load(files: try Self.seedSets()[index])
    }

    /// One mutated file per case; the others stay valid so later stages (models, devices, display) are reached.
    @Test("mutated heatpumps.yml, registers.yml, collector.yml and display.yml", arguments: ConfigLoader.fileNames)
    func mutated(_ file: String) async throws {
        let sets = try Self.seedSets().filter { $0[file] != nil }
        let fuzz = FuzzRun("config-\(file)", cases: 100)
        try await fuzz.run { rng, record in
            var files = Mutator.pick(sets, &rng)
            let text = String(decoding: Mutator.mutate(Array(files[file, default: ""].utf8), &rng), as: UTF8.self)
            files[file] = text
            record(text)
            try check(files, loader: fastLoader, fuzz: fuzz, input: text)
        }
    }

    @Test("regression inputs found by fuzzing and classic YAML bombs", arguments: ConfigFuzzTests.regressions)
    func regressionInputs(_ input: Regression) throws {
        var files = ["heatpumps.yml": "heatpumps: []\n"]
        files[input.file] = input.text
        try check(files, loader: loader, fuzz: FuzzRun("config-regression", cases: 1), input: input.text)
    }

    @Test("an alias as a mapping key is refused with its line before the composer hashes it")
    func aliasKey() throws {
        for (text, line) in [("a: &a [1, [2]]\nb: {*a : x}\n", 2), ("a: &a 1\nb:\n  ? *a\n  : x\n", 3), ("a: &a x\n*a: 2\n", 2)] {
            #expect(throws: ConfigErrors.self) { try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "display.yml": text]) }
            do { _ = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "display.yml": text]) } catch let errors as ConfigErrors {
                #expect(errors.errors.first?.message == "an alias (*name) as a mapping key is not supported", "\(errors)")
                #expect(errors.errors.first?.line == line)
            }
        }
        // Aliases as values (and `*` in text) stay allowed.
        let config = try loader.load(files: ["heatpumps.yml": "heatpumps: []\n", "display.yml": "sparkline_minutes: &m 60\nrefresh_interval: 10 # *x: y\nvisible_fields: {hp1: ['*a: b', \"*c : d\"]}\n"])
        #expect(config.display.sparklineMinutes == 60)
    }

    func check(_ files: [String: String], loader: ConfigLoader, fuzz: FuzzRun, input: String) throws {
        let started = ContinuousClock.now
        do {
            _ = try loader.load(files: files, directory: "/etc/hpm")
        } catch let errors as ConfigErrors {
            for error in errors.errors where error.file.isEmpty || error.message.isEmpty || error.line < 0 {
                fuzz.fail("unlocated error \(error)", seed: input)
            }
        } catch {
            fuzz.fail("not a ConfigErrors: \(type(of: error)) \(error)", seed: input)
        }
        // Generous (a loaded CI machine): a linear parse takes milliseconds; this catches exponential blow-ups.
        if ContinuousClock.now - started > .seconds(3) { fuzz.fail("took \(ContinuousClock.now - started)", seed: input) }
    }

    struct Regression: Sendable, CustomStringConvertible {
        var description: String
        var file: String
        var text: String
    }

    static let regressions: [Regression] = [
        Regression(description: "billion laughs (nested aliases) as a list of registers", file: "registers.yml", text: """
            a: &a [x, x, x, x, x, x, x, x, x, x]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
            e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
            f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
            g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
            models: {m: {registers: *g}}
            """),
        Regression(description: "billion laughs as a mapping key", file: "display.yml", text: """
            a: &a [x, x, x, x, x, x, x, x, x, x]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
            e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
            f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
            visible_fields: {*f : [x], hp1: *f}
            """),
        Regression(description: "10,000 nested flow sequences", file: "collector.yml",
                   text: "collector: " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)),
        Regression(description: "10,000 nested block sequences", file: "heatpumps.yml",
                   text: "heatpumps:\n" + String(repeating: "- ", count: 10_000) + "x\n"),
        Regression(description: "huge enum and bit keys", file: "registers.yml",
                   text: "models:\n  m:\n    registers:\n      - {name: r, address: 1, enum_values: {99999999999999999999: a, -0x8000000000000000: b}}\n"),
        Regression(description: "huge address_offset and address", file: "registers.yml",
                   text: "models:\n  m:\n    address_offset: -9223372036854775808\n    registers:\n      - {name: r, address: 9223372036854775807}\n"),
        Regression(description: "unterminated ${ in a key position", file: "collector.yml", text: "influxdb:\n  url: ${INFLUX\n"),
        Regression(description: "NUL bytes and a BOM", file: "display.yml", text: "\u{FEFF}refresh_interval: 1\u{0}0\n"),
    ]
}
