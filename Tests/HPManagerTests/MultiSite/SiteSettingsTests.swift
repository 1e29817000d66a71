import Drivers
import Foundation
import HPCore
import Testing
import TestSupport

/// `site:` and `remote_write:` in collector.yml: values, defaults and located errors.
@Suite("site and remote_write settings", .harnessThreads)
struct SiteSettingsTests {
    static func load(_ collector: String, registers: String = "models: {}\n") throws -> CollectorConfig {
        let dir = try TemporaryDirectory(prefix: "hpm-site-settings")
        try dir.write("heatpumps.yml", "heatpumps: []\n")
        try dir.write("registers.yml", registers)
        try dir.write("collector.yml", collector)
        return try ConfigLoader(builtinModelFiles: BuiltinModels.files, environment: [:]).load(directory: dir.path).collector
    }

    static func error(_ collector: String) throws -> ConfigError? {
        do {
            _ = try load(collector)
            return nil
        } catch let errors as ConfigErrors {
            return errors.errors.first
        }
    }

    @Test("a site: id, name and sorted labels; series labels are site then the labels")
    func site() throws {
        let c = try Self.load("site:\n  id: zurich-01\n  name: Zürich, Seefeld\n  labels:\n    region: eu-central\n    Building: B2\n")
        #expect(c.site.id == "zurich-01" && c.site.name == "Zürich, Seefeld")
        #expect(c.site.seriesLabels.map(\.name) == ["site", "Building", "region"])
        #expect(c.site.seriesLabels.map(\.value) == ["zurich-01", "B2", "eu-central"])
        #expect(try Self.load("").site.seriesLabels.isEmpty, "no site section: no site label")
    }

    @Test("invalid site entries are errors at their line", arguments: [
        ("site:\n  name: x\n", 2, "id"),
        ("site:\n  id: a/b\n", 2, "id must be"),
        ("site:\n  id: a\n  labels:\n    heatpump_id: x\n", 4, "clashes"),
        ("site:\n  id: a\n  labels:\n    site: x\n", 4, "clashes"),
        ("site:\n  id: a\n  labels:\n    __meta: x\n", 4, "not a Prometheus label name"),
        ("site:\n  id: a\n  labels:\n    1region: x\n", 4, "not a Prometheus label name"),
        ("site:\n  id: a\n  labels:\n    region: \"\"\n", 4, "must be 1-256 bytes"),
        ("site:\n  id: a\n  colour: red\n", 3, "unknown key"),
    ])
    func rejectsSite(_ text: String, _ line: Int, _ fragment: String) throws {
        let error = try #require(try Self.error(text), "accepted \(text)")
        #expect(error.line == line && error.description.contains(fragment), "got \(error)")
    }

    @Test("a site label named like a template's instance label is refused")
    func templateLabelClash() throws {
        let registers = """
        models:
          m:
            templates:
              circuits:
                label: circuit
                instances: [A]
                stride: 10
                registers:
                  - {name: flow_temp, address: 1, register_type: input, data_type: int16}
            registers:
              - {name: t, address: 0, register_type: input, data_type: int16}
        """
        #expect(throws: ConfigErrors.self) { try Self.load("site:\n  id: a\n  labels:\n    circuit: x\n", registers: registers) }
        #expect(throws: Never.self) { try Self.load("site:\n  id: a\n  labels:\n    region: x\n", registers: registers) }
    }

    @Test("remote_write: defaults, names, queue, auth")
    func remoteWrite() throws {
        let c = try Self.load("""
        remote_write:
          - url: http://127.0.0.1:9090/api/v1/write
          - name: mimir
            url: https://mimir.example/api/v1/push
            headers: {X-Scope-OrgID: tenant-1}
            basic_auth: {username: hpm, password_file: /etc/hpmanager/mimir.password}
            queue: {capacity: 500, max_samples_per_send: 100, max_shards: 2, batch_send_deadline: 2s, min_backoff: 0.5, max_backoff: 10}
        """)
        #expect(c.remoteWrite.count == 2)
        let first = c.remoteWrite[0], second = c.remoteWrite[1]
        #expect(first.name == "rw1" && first.queue.capacity == 10_000 && first.queue.maxSamplesPerSend == 2_000 && first.queue.batchSendDeadline == 5)
        #expect(first.queue.maxShards == 4 && second.queue.maxShards == 2)
        #expect(first.basicAuth == nil && first.bearerTokenFile.isEmpty)
        #expect(second.name == "mimir" && second.headers == ["X-Scope-OrgID": "tenant-1"])
        #expect(second.basicAuth == .init(username: "hpm", passwordFile: "/etc/hpmanager/mimir.password"))
        #expect(second.queue.capacity == 500 && second.queue.maxSamplesPerSend == 100 && second.queue.batchSendDeadline == 2)
        #expect(second.queue.minBackoff == 0.5 && second.queue.maxBackoff == 10)
    }

    @Test("invalid remote_write entries are errors at their line", arguments: [
        ("remote_write:\n  - name: a\n", 2, "url"),
        ("remote_write:\n  - url: ftp://x\n", 2, "must start with http"),
        ("remote_write:\n  - url: http://x\n    bearer_token_file: /t\n    basic_auth: {username: u}\n", 2, "exclude each other"),
        ("remote_write:\n  - url: http://x\n    headers: {Authorization: x}\n", 3, "set by hpmanager"),
        ("remote_write:\n  - url: http://x\n    queue: {capacity: 0}\n", 3, "capacity"),
        ("remote_write:\n  - url: http://x\n    queue: {min_backoff: 10, max_backoff: 1}\n", 3, "must not be below"),
        ("remote_write:\n  - {url: http://x, name: a}\n  - {url: http://y, name: a}\n", 3, "used twice"),
        ("remote_write:\n  - url: http://x\n    queue: {min_shards: 3}\n", 3, "unknown key"),
        ("remote_write:\n  - url: http://x\n    queue: {max_shards: 0}\n", 3, "max_shards"),
        ("remote_write:\n  - url: http://x\n    queue: {max_shards: 65}\n", 3, "max_shards"),
    ])
    func rejectsRemoteWrite(_ text: String, _ line: Int, _ fragment: String) throws {
        let error = try #require(try Self.error(text), "accepted \(text)")
        #expect(error.line == line && error.description.contains(fragment), "got \(error)")
    }
}
