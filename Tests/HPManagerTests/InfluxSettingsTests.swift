import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// The `influxdb:` keys of collector.yml this sink adds: values, defaults and located errors.
@Suite("influxdb settings", .harnessThreads)
struct InfluxSettingsTests {
    static func load(_ influx: String) throws -> InfluxSettings {
        let dir = try TemporaryDirectory(prefix: "hpm-influx-settings")
        try dir.write("heatpumps.yml", "heatpumps: []\n")
        try dir.write("registers.yml", "models: {}\n")
        try dir.write("collector.yml", "influxdb:\n  url: http://127.0.0.1:8086\n  org: o\n  bucket: b\n" + influx)
        return try ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:]).load(directory: dir.path).collector.influxdb
    }

    @Test("defaults: float fields, retries capped at 5 min, dead letters kept 7 days / 10000")
    func defaults() throws {
        let s = try Self.load("")
        #expect(s.fieldTypes == .float && s.retryIntervalMax == 300 && s.deadLetterRetention == 7 * 86400 && s.deadLetterMax == 10_000)
        let set = try Self.load("  field_types: native\n  retry_interval_max: 2m\n  dead_letter_retention: 1d\n  dead_letter_max: 5\n")
        #expect(set.fieldTypes == .native && set.retryIntervalMax == 120 && set.deadLetterRetention == 86400 && set.deadLetterMax == 5)
    }

    @Test("bad values are config errors at their line", arguments: [
        ("  field_types: integer\n", 5, "field_types must be float or native"),
        ("  retry_interval_max: 1e300\n", 5, "retry_interval_max"),
        ("  retry_interval: 60\n  retry_interval_max: 10\n", 6, "must not be below retry_interval"),
        ("  dead_letter_max: -1\n", 5, "dead_letter_max"),
    ])
    func rejects(_ text: String, _ line: Int, _ fragment: String) throws {
        do {
            _ = try Self.load(text)
            Issue.record("accepted \(text)")
        } catch let errors as ConfigErrors {
            let error = try #require(errors.errors.first)
            #expect(error.line == line && error.description.contains(fragment), "got \(error)")
        }
    }
}
