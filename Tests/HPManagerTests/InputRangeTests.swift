import ControlProtocol
import Drivers
import Foundation
import HPCore
import ModbusKit
import Testing
import TestSupport

/// Every number a user supplies is range-checked before it is converted: values that used to trap
/// the daemon (and `hpmanagerd --check`) are now errors that name file, line and field.
@Suite("Input ranges: no user value can trap the daemon", .harnessThreads)
struct InputRangeTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:])

    struct BadCase: Sendable, CustomStringConvertible {
        var description: String
        var file: String
        var text: String
        var line: Int
        var field: String
        var fragment: String
    }

    // MARK: Templates: one YAML line per case is the value under test.

    /// The key sits on line 6, under `heatpumps[0].modbus`.
    static func tcp(_ key: String, _ value: String, _ fragment: String) -> BadCase {
        BadCase(description: "modbus.\(key): \(value)", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    modbus:\n      host: h\n      \(key): \(value)\n",
                line: 6, field: "heatpumps[0].modbus.\(key)", fragment: fragment)
    }

    /// The key sits on line 7, under an RTU `heatpumps[0].modbus`.
    static func rtu(_ key: String, _ value: String, _ fragment: String) -> BadCase {
        BadCase(description: "rtu modbus.\(key): \(value)", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    modbus:\n      type: rtu\n      port: /dev/ttyS0\n      \(key): \(value)\n",
                line: 7, field: "heatpumps[0].modbus.\(key)", fragment: fragment)
    }

    /// The key sits on line 4, directly under `heatpumps[0]`.
    static func device(_ key: String, _ value: String, _ fragment: String) -> BadCase {
        BadCase(description: "device \(key): \(value)", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: a\n    model: idm_navigator_2\n    \(key): \(value)\n    modbus: {host: h}\n",
                line: 4, field: "heatpumps[0].\(key)", fragment: fragment)
    }

    static func id(_ value: String) -> BadCase {
        BadCase(description: "id \(value)", file: "heatpumps.yml",
                text: "heatpumps:\n  - id: \(value)\n    model: idm_navigator_2\n    modbus: {host: h}\n",
                line: 2, field: "heatpumps[0].id", fragment: "must be 1-64 characters")
    }

    /// `section:` on line 1, the key on line 2.
    static func collector(_ section: String, _ key: String, _ value: String, _ fragment: String) -> BadCase {
        BadCase(description: "\(section).\(key): \(value)", file: "collector.yml", text: "\(section):\n  \(key): \(value)\n",
                line: 2, field: "\(section).\(key)", fragment: fragment)
    }

    /// An alert whose last line (`line`) holds the value under test.
    static func alert(_ lines: [String], key: String, _ fragment: String) -> BadCase {
        BadCase(description: "alert \(lines.last ?? "")", file: "collector.yml",
                text: "alerts:\n  - name: x\n" + lines.map { "    \($0)\n" }.joined(),
                line: 2 + lines.count, field: "alerts[0].\(key)", fragment: fragment)
    }

    static let durationMessage = "must be between"

    static let badCases: [BadCase] = [
        // Device timeouts: libmodbus takes whole seconds as UInt32 (5e9 and 2^32 trapped).
        tcp("timeout", "5000000000", "must be between 0.001 s and 3600 s, found 5000000000 s"),
        tcp("timeout", "4294967296", durationMessage),
        tcp("timeout", "4294967296.5", durationMessage),
        tcp("timeout", "1e300", "found 1e+300 s"),
        tcp("timeout", "3601", durationMessage),
        tcp("timeout", "0", "must be greater than 0"),
        tcp("timeout", "0.0001", durationMessage),
        tcp("timeout", "1e307d", "expected a duration"),
        tcp("timeout", "nan", "expected a duration"),
        tcp("timeout", ".inf", "expected a duration"),
        tcp("timeout", "inf", "expected a duration"),
        tcp("retry_delay", "1e300", durationMessage),
        tcp("retry_delay", "-1", "must not be negative"),
        tcp("retries", "101", "retries must be 0-10"),
        tcp("retries", "9223372036854775807", "retries must be 0-10"),
        tcp("unit_id", "256", "out of range 0-255"),
        tcp("port", "9223372036854775807", "out of range 1-65535"),
        // Device poll interval: Duration.seconds(1e300) overflowed.
        device("poll_interval", "1e300", "must be between 0.05 s and 86400 s"),
        device("poll_interval", "0.01", durationMessage),
        device("poll_interval", "2d", durationMessage),
        // Serial settings: libmodbus takes C ints (99999999999 trapped in Int32()).
        rtu("baudrate", "99999999999", "must be between 50 and 4000000, found 99999999999"),
        rtu("baudrate", "0", "must be between 50 and 4000000"),
        rtu("baudrate", "9223372036854775807", "must be between 50 and 4000000"),
        rtu("bytesize", "9223372036854775807", "bytesize must be 5-8"),
        rtu("stopbits", "3", "stopbits must be 1 or 2"),
        rtu("unit_id", "248", "out of range 1-247"),
        // Ids: `.` and `..` read as paths, a leading `-` as an option.
        id("\"..\""), id("\".\""), id("\"-a\""), id("\".hidden\""), id("\"a/b\""), id("\"\""),
        // collector: every duration ends up in a Duration; batch_size × 20 overflowed.
        collector("collector", "poll_interval", "1e300", "must be between 0.05 s and 86400 s"),
        collector("collector", "poll_interval", "-5", "must be greater than 0"),
        collector("collector", "batch_interval", "1e300", durationMessage),
        collector("collector", "batch_size", "9223372036854775807", "must be within 1-100000"),
        collector("collector", "batch_size", "0", "must be within 1-100000"),
        collector("collector", "reconnect_rate", "1e-300", "must be between 0.01 and 1000000"),
        collector("collector", "reconnect_rate", "1e300", "must be between 0.01 and 1000000"),
        collector("collector", "reconnect_rate", "-9223372036854775808", "must be greater than 0, found -9.223372036854776e+18"),
        collector("collector", "backoff_initial", "1e300", durationMessage),
        collector("collector", "backoff_max", "1e300", durationMessage),
        collector("collector", "quarantine_retry", "1e300", durationMessage),
        collector("collector", "quarantine_retry", "8d", durationMessage),
        collector("supervisor", "restart_window", "1e300", durationMessage),
        collector("supervisor", "failed_cooldown", "1e300", durationMessage),
        collector("supervisor", "restart_backoff", "1e300", durationMessage),
        collector("supervisor", "restart_backoff_max", "1e300", durationMessage),
        collector("supervisor", "restart_backoff", "-1", "must not be negative"),
        collector("supervisor", "max_restarts", "9223372036854775807", "must be within 0-10000"),
        collector("metrics_file", "interval", "1e300", "must be between 0.1 s and 86400 s"),
        collector("metrics_file", "interval", "0.000001", "must be between 0.1 s and 86400 s, found 1e-06 s"),
        collector("control_socket", "idle_timeout", "1e300", durationMessage),
        collector("control_socket", "idle_timeout", "1e300ms", durationMessage),
        collector("influxdb", "timeout", "1e300", "must be between 0.1 s and 3600 s"),
        collector("influxdb", "retry_interval", "1e300", durationMessage),
        collector("sqlite", "readings_retention", "1e300", durationMessage),
        collector("sqlite", "readings_retention", "1", durationMessage),
        collector("sqlite", "readings_retention", "-1", "must not be negative"),
        // Alerts: durations end up in Int(…) in alert messages.
        alert(["offline_for: 1e300"], key: "offline_for", durationMessage),
        alert(["offline_for: -1"], key: "offline_for", "must not be negative"),
        alert(["error_rate_above: 0.5", "window: 1e300"], key: "window", durationMessage),
        alert(["register: r", "above: 1", "for: 1e300"], key: "for", durationMessage),
        alert(["register: r", "above: 1", "hysteresis: -1"], key: "hysteresis", "must not be negative"),
        // Registers: address + address_offset overflowed Int even in --check.
        BadCase(description: "address_offset Int.max", file: "registers.yml",
                text: "models:\n  m:\n    address_offset: 9223372036854775807\n    registers:\n      - {name: r, address: 1}\n",
                line: 3, field: "models.m.address_offset", fragment: "must be between -999999 and 999999, found 9223372036854775807"),
        BadCase(description: "address_offset Int.min", file: "registers.yml",
                text: "models:\n  m:\n    address_offset: -9223372036854775808\n    registers:\n      - {name: r, address: 1}\n",
                line: 3, field: "models.m.address_offset", fragment: "must be between -999999 and 999999"),
        BadCase(description: "address Int.max", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - {name: r, address: 9223372036854775807}\n",
                line: 4, field: "models.m.registers[0].address", fragment: "must be between 0 and 999999"),
        BadCase(description: "address negative", file: "registers.yml",
                text: "models:\n  m:\n    registers:\n      - name: r\n        address: -1\n",
                line: 5, field: "models.m.registers[0].address", fragment: "must be between 0 and 999999"),
        BadCase(description: "address + offset beyond 65535", file: "registers.yml",
                text: "models:\n  m:\n    address_offset: 999999\n    registers:\n      - {name: r, address: 999999}\n",
                line: 5, field: "models.m.registers[0].address", fragment: "address 1999998 is out of range 0-65535"),
        BadCase(description: "address + offset below 0", file: "registers.yml",
                text: "models:\n  m:\n    address_offset: -999999\n    registers:\n      - {name: r, address: 3}\n",
                line: 5, field: "models.m.registers[0].address", fragment: "address -999996 is out of range 0-65535"),
        BadCase(description: "int64 at the last address", file: "registers.yml",
                text: "models:\n  m:\n    address_offset: 65000\n    registers:\n      - {name: r, address: 535, data_type: int64}\n",
                line: 5, field: "models.m.registers[0].data_type", fragment: "needs 4 registers but only 1 remain"),
    ]

    static func load(_ loader: ConfigLoader, _ files: [String: String]) throws -> Configuration {
        var all = ["heatpumps.yml": "heatpumps: []\n", "registers.yml": "models: {}\n", "collector.yml": ""]
        for (name, text) in files { all[name] = text }
        let dir = try TemporaryDirectory(prefix: "hpm-range")
        for (name, text) in all { try dir.write(name, text) }
        return try loader.load(directory: dir.path)
    }

    @Test("out-of-range values are ConfigErrors naming file:line: field", arguments: badCases)
    func rejects(_ bad: BadCase) throws {
        do {
            _ = try Self.load(loader, [bad.file: bad.text])
            Issue.record("expected \(bad.description) to be rejected")
        } catch let errors as ConfigErrors {
            let match = errors.errors.first { $0.file.hasSuffix(bad.file) && $0.field == bad.field }
            #expect(match != nil, "no error for \(bad.field); got: \(errors.description)")
            guard let match else { return }
            #expect(match.description.contains(bad.fragment), "got: \(match.description)")
            #expect(match.line == bad.line, "line of \(match)")
            #expect(match.description.contains("\(bad.file):\(bad.line): \(bad.field): "), "file:line: field: message — \(match)")
        }
    }

    struct GoodCase: Sendable, CustomStringConvertible {
        var description: String
        var file: String
        var text: String
    }

    /// The bounds themselves, and conventions real configs use, still load.
    static let goodCases: [GoodCase] = [
        GoodCase(description: "device bounds", file: "heatpumps.yml", text: """
        heatpumps:
          - {id: a, model: idm_navigator_2, poll_interval: 0.05, modbus: {host: h, timeout: 0.001, retries: 0, retry_delay: 0}}
          - {id: b, model: idm_navigator_2, poll_interval: 1d, modbus: {host: h, port: 65535, timeout: 1h, retries: 10, retry_delay: 3600}}
          - {id: c, model: idm_navigator_2, poll_interval: 86400, modbus: {type: rtu, port: /dev/ttyS0, baudrate: 50, bytesize: 5, stopbits: 2, unit_id: 247}}
          - {id: d, model: idm_navigator_2, modbus: {type: rtu, port: /dev/ttyS1, baudrate: 4000000, unit_id: 1, timeout: 250ms}}
          - {id: hp.1, model: idm_navigator_2, modbus: {host: h, unit_id: 0}}
          - {id: _x, model: idm_navigator_2, modbus: {host: h, unit_id: 255}}
          - {id: 9a-b.c_d, model: idm_navigator_2, modbus: {host: h}}
          - {id: a123456789012345678901234567890123456789012345678901234567890123, model: idm_navigator_2, modbus: {host: h}}
        """),
        GoodCase(description: "collector bounds", file: "collector.yml", text: """
        collector: {poll_interval: 0.05, batch_size: 100000, batch_interval: 0.01, reconnect_rate: 0.01, backoff_initial: 0.01, backoff_max: 1d, quarantine_retry: 7d}
        influxdb: {timeout: 0.1, retry_interval: 1d}
        metrics_file: {path: /tmp/x.prom, interval: 0.1}
        sqlite: {readings_retention: 3650d}
        control_socket: {idle_timeout: 0.1}
        supervisor: {restart_window: 7d, failed_cooldown: 0.1, restart_backoff: 0, restart_backoff_max: 1d}
        alerts:
          - {name: o, offline_for: 7d}
          - {name: e, error_rate_above: 0.5, window: 1, for: 0}
        """),
        GoodCase(description: "readings_retention 0 turns the reading history off", file: "collector.yml", text: """
        sqlite: {readings_retention: 0}
        """),
        GoodCase(description: "Modicon addressing: 40001 and 6-digit 465536 with negative offsets", file: "registers.yml", text: """
        models:
          modicon:
            address_offset: -40001
            registers:
              - {name: first, address: 40001}
              - {name: last, address: 105535}
          six_digit:
            address_offset: -400001
            registers:
              - {name: top, address: 465536}
              - {name: wide, address: 465533, data_type: uint64}
        """),
    ]

    @Test("values at the bounds, and real conventions, still load", arguments: goodCases)
    func accepts(_ good: GoodCase) throws {
        let config = try Self.load(loader, [good.file: good.text])
        if good.file == "registers.yml" {
            #expect(config.models["modicon"]?.registers.map(\.address) == [0, 65534])
            #expect(config.models["six_digit"]?.registers.map(\.address) == [65535, 65532])
        }
    }

    @Test("HPManager's own files and every default still load")
    func hpmanagerCompatibility() throws {
        let dir = try ConfigFixtures.directory()
        let config = try ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: ["INFLUXDB_TOKEN": "t"]).load(directory: dir.path)
        #expect(config.devices.count == 2)
        let defaults = CollectorConfig()
        let limits: [(Double, ClosedRange<Double>)] = [
            (defaults.collector.pollInterval, ConfigLimits.pollInterval), (defaults.collector.batchInterval, ConfigLimits.batchInterval),
            (defaults.collector.reconnectRate, ConfigLimits.reconnectRate), (defaults.collector.backoffInitial, ConfigLimits.backoff),
            (defaults.collector.backoffMax, ConfigLimits.backoff), (defaults.collector.quarantineRetry, ConfigLimits.quarantineRetry),
            (defaults.influxdb.timeout, ConfigLimits.influxTimeout), (defaults.influxdb.retryInterval, ConfigLimits.influxRetryInterval),
            (defaults.sqlite.readingsRetention, ConfigLimits.readingsRetention), (defaults.controlSocket.idleTimeout, ConfigLimits.idleTimeout),
            (defaults.supervisor.restartWindow, ConfigLimits.restartWindow), (defaults.supervisor.failedCooldown, ConfigLimits.failedCooldown),
            (defaults.supervisor.restartBackoff, ConfigLimits.restartBackoff), (defaults.supervisor.restartBackoffMax, ConfigLimits.restartBackoff),
            (ModbusSettings(transport: .tcp(host: "h", port: 502)).timeout, ConfigLimits.modbusTimeout),
            (ModbusSettings(transport: .tcp(host: "h", port: 502)).retryDelay, ConfigLimits.retryDelay),
        ]
        for (value, range) in limits { #expect(range.contains(value), "default \(value) outside \(range)") }
        #expect(ConfigLimits.batchSize.contains(defaults.collector.batchSize))
    }

    struct RuntimeCase: Sendable, CustomStringConvertible {
        var description: String
        var json: String
        var field: String
        var fragment: String
    }

    static let runtimeCases: [RuntimeCase] = [
        RuntimeCase(description: "timeout 5e9", json: #"{"id": "r", "model": "nibe_s1155", "modbus": {"host": "h", "timeout": 5000000000}}"#,
                    field: "modbus.timeout", fragment: "must be between 0.001 s and 3600 s"),
        RuntimeCase(description: "poll_interval 1e300", json: #"{"id": "r", "model": "nibe_s1155", "poll_interval": 1e300, "modbus": {"host": "h"}}"#,
                    field: "poll_interval", fragment: "must be between 0.05 s and 86400 s"),
        RuntimeCase(description: "baudrate", json: #"{"id": "r", "model": "nibe_s1155", "modbus": {"type": "rtu", "port": "/dev/ttyS0", "baudrate": 99999999999}}"#,
                    field: "modbus.baudrate", fragment: "must be between 50 and 4000000"),
        RuntimeCase(description: "id ..", json: #"{"id": "..", "model": "nibe_s1155", "modbus": {"host": "h"}}"#,
                    field: "id", fragment: "must be 1-64 characters"),
    ]

    @Test("devices added at runtime (ConfigLoader.parseDevice) get the same checks", arguments: runtimeCases)
    func runtimeDevices(_ c: RuntimeCase) throws {
        let config = try Self.load(loader, [:])
        do {
            _ = try loader.parseDevice(text: c.json, source: "request", models: config.models, defaultPollInterval: 30)
            Issue.record("expected \(c.description) to be rejected")
        } catch let error as ConfigError {
            #expect(error.field == c.field && error.description.contains(c.fragment) && error.line == 1, "got: \(error)")
            #expect(error.description.hasPrefix("request:1: \(c.field): "))
        }
    }

    // MARK: Register encoder

    struct EncodeCase: Sendable, CustomStringConvertible {
        var type: DataType
        var text: String
        var scale: Double = 1
        /// Nil: must be rejected.
        var words: [UInt16]?
        var description: String { "\(type.rawValue) \(text)\(scale == 1 ? "" : " ×\(scale)") → \(words.map { "\($0)" } ?? "rejected")" }
    }

    static let encodeCases: [EncodeCase] = [
        // Double(UInt64.max) is 2^64: it passed the old range check, then UInt64(2^64) trapped.
        EncodeCase(type: .uint64, text: "18446744073709551615", words: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]),
        EncodeCase(type: .uint64, text: "18446744073709551614", words: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFE]),
        EncodeCase(type: .uint64, text: "18446744073709551616", words: nil),
        EncodeCase(type: .uint64, text: "1.8446744073709552e19", words: nil),
        EncodeCase(type: .uint64, text: "184467440737095516150", words: nil),
        EncodeCase(type: .uint64, text: "-1", words: nil),
        EncodeCase(type: .uint64, text: "0", words: [0, 0, 0, 0]),
        // int64: 2^63 (Double(Int64.max)) used to be written as Int64.min's bit pattern.
        EncodeCase(type: .int64, text: "9223372036854775807", words: [0x7FFF, 0xFFFF, 0xFFFF, 0xFFFF]),
        EncodeCase(type: .int64, text: "9223372036854775808", words: nil),
        EncodeCase(type: .int64, text: "9.223372036854775807e18", words: nil),
        EncodeCase(type: .int64, text: "-9223372036854775808", words: [0x8000, 0, 0, 0]),
        EncodeCase(type: .int64, text: "-9.223372036854775808e18", words: [0x8000, 0, 0, 0]),
        EncodeCase(type: .int64, text: "-9223372036854775809", words: nil),
        EncodeCase(type: .int64, text: "-1", words: [0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF]),
        EncodeCase(type: .int64, text: "1e300", words: nil),
        EncodeCase(type: .int64, text: "1e18", scale: 0.001, words: nil),
        EncodeCase(type: .int64, text: "9e18", scale: 10, words: [0x0C7D, 0x713B, 0x49DA, 0x0000]),
        EncodeCase(type: .uint32, text: "4294967295", words: [0xFFFF, 0xFFFF]),
        EncodeCase(type: .uint32, text: "4294967296", words: nil),
        EncodeCase(type: .int32, text: "-2147483649", words: nil),
        EncodeCase(type: .int16, text: "32768", words: nil),
        EncodeCase(type: .int16, text: "-32768", words: [0x8000]),
        EncodeCase(type: .uint16, text: "1e5", words: nil),
        EncodeCase(type: .float32, text: "1e300", words: nil),
        // NaN and infinity are not numbers.
        EncodeCase(type: .float64, text: "nan", words: nil),
        EncodeCase(type: .float64, text: "inf", words: nil),
        EncodeCase(type: .float64, text: "-infinity", words: nil),
        EncodeCase(type: .float64, text: "1e400", words: nil),
        EncodeCase(type: .uint64, text: "NaN", words: nil),
        EncodeCase(type: .int64, text: "-inf", words: nil),
    ]

    @Test("encoder: 64-bit extremes, overflow, NaN and infinity are Rejected, never a trap", arguments: encodeCases)
    func encode(_ c: EncodeCase) throws {
        let register = RegisterDefinition(name: "x", address: 0, dataType: c.type, scale: c.scale, access: .readWrite)
        if let words = c.words {
            #expect(try RegisterEncoder.encode(register, text: c.text).payload == .words(words))
        } else {
            #expect(throws: RegisterEncoder.Rejected.self) { try RegisterEncoder.encode(register, text: c.text) }
        }
    }

    @Test("ModbusClient: values beyond a C int are an invalid request, not a trap")
    func modbusClientConversions() throws {
        #expect(throws: ModbusError.self) {
            try ModbusClient(.rtu(device: "/dev/null", baudrate: 99_999_999_999, parity: "N", dataBits: 8, stopBits: 1))
        }
        let client = try ModbusClient(.tcp(host: "127.0.0.1", port: 1))
        var words: [UInt16] = []
        #expect(throws: ModbusError.self) { try client.readRegisters(input: false, address: Int.max, count: 1, into: &words) }
        #expect(throws: ModbusError.self) { try client.readRegisters(input: true, address: 0, count: -1, into: &words) }
        #expect(throws: ModbusError.self) { _ = try client.readBits(discrete: false, address: 0, count: -1) }
        #expect(throws: ModbusError.self) { try client.writeRegisters(address: Int(Int32.max) + 1, words: [1]) }
        #expect(throws: ModbusError.self) { try client.writeBit(address: -1 << 40, value: true) }
        #expect(throws: ModbusError.self) { try client.setUnit(1 << 33) }
        client.setResponseTimeout(seconds: 5_000_000_000)
        client.setResponseTimeout(seconds: .nan)
    }

    // MARK: End to end

    @Test("hpmanagerd --check rejects an address_offset that used to crash it, with file:line")
    func checkRejects() throws {
        let dir = try TemporaryDirectory(prefix: "hpm-range-check")
        try dir.write("heatpumps.yml", "heatpumps:\n  - {id: a, model: m, modbus: {host: h, timeout: 5000000000}}\n")
        try dir.write("registers.yml", "models:\n  m:\n    address_offset: 9223372036854775807\n    registers:\n      - {name: r, address: 1}\n")
        let check = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", dir.path, "--check"])
        #expect(check.waitForExit(timeout: 30) == 78, "EX_CONFIG, not a crash")
        usleep(100_000)
        let stderr = check.stderr.transcript.joined(separator: "\n")
        #expect(stderr.contains("registers.yml:3: models.m.address_offset: must be between -999999 and 999999"), "\(stderr)")
        #expect(stderr.contains("heatpumps.yml:2: heatpumps[0].modbus.timeout: must be between 0.001 s and 3600 s"), "\(stderr)")
    }

    @Test("control socket: wrong-typed arguments are bad_request, a JSON number is a write value, bad runtime devices are refused")
    func controlArguments() async throws {
        let sim = try SimulatorProcess(["--tcp", "nibe:0"])
        let harness = try DaemonHarness(devices: [.init(id: "a", port: sim.ports[0])], interval: 0.3)
        let daemon = try harness.start()
        _ = try await DaemonHarness.waitFor(daemon, "a up") { DaemonHarness.up($0, "a") == 1 }
        let c = try UnixSocketClient(path: harness.socketPath)
        func call(_ json: String) -> String {
            c.send(json + "\n")
            return c.readLine(timeout: 10) ?? ""
        }
        let wrong: [(String, String)] = [
            (#"{"cmd":"status","args":{"id":5}}"#, #"status: \"id\" must be a string"#),
            (#"{"cmd":"read","args":{"id":"a","registers":"x"}}"#, #"read: \"registers\" must be a list of strings"#),
            (#"{"cmd":"read","args":{"id":"a","registers":[1]}}"#, #"read: \"registers\" must be a list of strings"#),
            (#"{"cmd":"read","args":{"id":7}}"#, #"read: \"id\" must be a string"#),
            (#"{"cmd":"history","args":{"id":"a","register":"r","since":"abc"}}"#, #"history: \"since\" must be a number"#),
            (#"{"cmd":"events","args":{"since":"abc"}}"#, #"events: \"since\" must be a number"#),
            (#"{"cmd":"alerts","args":{"active":"yes"}}"#, #"alerts: \"active\" must be a boolean"#),
            (#"{"cmd":"alerts","args":{"id":["a"]}}"#, #"alerts: \"id\" must be a string"#),
            (#"{"cmd":"write","args":{"id":"a","register":"climate_system_1.room_setpoint","value":[1]}}"#, #"write: \"value\" must be a string or number"#),
            (#"{"cmd":"write","args":{"id":"a","register":"climate_system_1.room_setpoint","value":"21","client":3}}"#, #"write: \"client\" must be a string"#),
            (#"{"cmd":"write","args":{"id":"a","register":"climate_system_1.room_setpoint","clear":"yes"}}"#, #"write: \"clear\" must be a boolean"#),
            (#"{"cmd":"pv-surplus","args":{"id":"a","kw":"3"}}"#, #"pv-surplus: \"kw\" must be a number"#),
            (#"{"cmd":"pv-surplus","args":{"id":"a"}}"#, #"pv-surplus needs \"kw\""#),
            (#"{"cmd":"sg-ready","args":{"id":"a"}}"#, #"sg-ready needs \"state\""#),
            (#"{"cmd":"jobs","args":{"action":"remove","job":1.5}}"#, #"jobs remove needs \"job\" (the job number)"#),
            (#"{"cmd":"jobs","args":{"action":"dance"}}"#, #"jobs: unknown action \"dance\"; expected add, list or remove"#),
            (#"{"cmd":"jobs","args":{"action":"add","id":"a","register":"climate_system_1.room_setpoint","value":"21","at":"6 am"}}"#, #"time must be HH:MM or HH:MM:SS"#),
        ]
        for (request, message) in wrong {
            let reply = call(request)
            #expect(reply.contains("bad_request") && reply.contains(message), "\(request) → \(reply)")
        }
        #expect(call(#"{"cmd":"alerts","args":{"active":true,"id":null}}"#).contains("\"ok\":true"), "null means absent")

        let written = call(#"{"cmd":"write","args":{"id":"a","register":"climate_system_1.room_setpoint","value":22.5}}"#)
        #expect(written.contains("\"ok\":true") && written.contains("\"verified\":true"), "\(written)")
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 206")["value"] as? Int == 225, "hpsim register changed")
        let whole = call(#"{"cmd":"write","args":{"id":"a","register":"climate_system_1.room_setpoint","value":21}}"#)
        #expect(whole.contains("\"ok\":true"), "\(whole)")
        #expect(try sim.command("get \(sim.ports[0]) 1 holding 206")["value"] as? Int == 210)

        let dots = call(#"{"cmd":"add","args":{"device":{"id":"..","model":"nibe_s1155","modbus":{"host":"127.0.0.1"}}}}"#)
        #expect(dots.contains("invalid_device") && dots.contains("must be 1-64 characters"), "\(dots)")
        let huge = call(#"{"cmd":"add","args":{"device":{"id":"big","model":"nibe_s1155","modbus":{"host":"127.0.0.1","timeout":5000000000}}}}"#)
        #expect(huge.contains("invalid_device") && huge.contains("modbus.timeout: must be between 0.001 s and 3600 s"), "\(huge)")
        let test = call(#"{"cmd":"test","args":{"device":{"id":"t","model":"nibe_s1155","poll_interval":1e300,"modbus":{"host":"127.0.0.1"}}}}"#)
        #expect(test.contains("invalid_device") && test.contains("poll_interval"), "\(test)")

        #expect(call(#"{"cmd":"ping"}"#).contains("\"ok\":true"), "the daemon is still running")
        #expect(daemon.process.isRunning)
        daemon.process.stop()
    }
}
