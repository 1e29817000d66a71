import Drivers
import HPCore
import Testing
import TestSupport

/// HPManager's own files, unchanged, load with every register, named bit and display setting.
@Suite("HPManager config compatibility", .harnessThreads)
struct ConfigCompatibilityTests {
    let loader = ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: ["INFLUXDB_TOKEN": "t0ken"])

    @Test("registers.yml, heatpumps.yml, collector.yml and display.yml load as HPManager ships them")
    func realFilesLoad() throws {
        let config = try loader.load(directory: HPManagerFixtures.directory)
        #expect(config.warnings.isEmpty, "\(config.warnings)")
        #expect(config.devices.map(\.id) == ["hp1", "hp2"])
        let model = try #require(config.models["stiebel_eltron_wpm"])
        #expect(model.registers.count == 29)
        let status = try #require(model.registers.first { $0.name == "operating_status" })
        #expect(status.address == 2500 && status.registerType == .input && status.isBitmap)
        #expect(status.bitmapFields.count == 12)
        #expect(status.bitmapFields.first { $0.bit == 6 }?.name == "compressor_running")
        #expect(status.bitmapFields.first { $0.bit == 9 }?.name == "defrost_mode")
        #expect(status.bitmapFields.map(\.bit) == Array(0...11), "sorted by bit")
        let evu = try #require(model.registers.first { $0.name == "evu_release" })
        #expect(evu.bitmapFields == [BitmapField(bit: 0, name: "evu_release")], "a bit may carry its register's name")
        #expect(config.display.refreshInterval == 10 && config.display.sparklineMinutes == 60)
        #expect(config.display.visibleFields(for: "hp1")?.count == 13)
        #expect(config.display.visibleFields(for: "hp2")?.last == "fault_status")
        #expect(config.display.visibleFields(for: "hp9") == nil)
        #expect(config.collector.influxdb.token == "t0ken")
    }

    @Test("the production heatpumps.yml (direct LAN hosts) loads too")
    func productionDevices() throws {
        let dir = try HPManagerFixtures.copy(overrides: ["heatpumps.yml": try HPManagerFixtures.text("heatpumps.production.yml")])
        let config = try loader.load(directory: dir.path)
        #expect(config.devices.map(\.modbus.transport) == [.tcp(host: "192.168.8.74", port: 502), .tcp(host: "192.168.8.124", port: 502)])
    }

    @Test("hpmanagerd --check accepts HPManager's files as they are")
    func checkAccepts() throws {
        let check = try ManagedProcess(executable: try Products.path("hpmanagerd"), arguments: ["--config-dir", HPManagerFixtures.directory, "--check"],
                                       environment: ["INFLUXDB_TOKEN": "x"])
        #expect(check.waitForExit(timeout: 30) == 0, "\(check.stderr.transcript)")
    }
}
