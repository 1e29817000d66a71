import CurlKit
import Foundation

/// A private `influxd` (1.x) on free loopback ports with its own data directory; stop and start
/// again keep the data (for outage tests).
public final class InfluxServer: @unchecked Sendable {
    // `@unchecked Sendable`: `process` is replaced only by start/stop, which tests call sequentially.
    public let httpPort: Int
    public let directory: TemporaryDirectory
    private var process: ManagedProcess?

    public var url: String { "http://127.0.0.1:\(httpPort)" }

    public init() throws {
        directory = try TemporaryDirectory(prefix: "hpm-influx")
        httpPort = try freeLoopbackPort()
        let rpcPort = try freeLoopbackPort()
        let d = directory.path
        try directory.write("influxdb.conf", """
        reporting-disabled = true
        bind-address = "127.0.0.1:\(rpcPort)"
        [meta]
          dir = "\(d)/meta"
        [data]
          dir = "\(d)/data"
          wal-dir = "\(d)/wal"
          query-log-enabled = false
        [monitor]
          store-enabled = false
        [http]
          bind-address = "127.0.0.1:\(httpPort)"
          log-enabled = false
          unix-socket-enabled = false
        [[graphite]]
          enabled = false
        [[collectd]]
          enabled = false
        [[opentsdb]]
          enabled = false
        [[udp]]
          enabled = false
        [continuous_queries]
          enabled = false
        """)
        try start()
    }

    deinit { stop() }

    public func start() throws {
        process = try ManagedProcess(executable: "/usr/bin/influxd",
                                     arguments: ["run", "-config", directory.file("influxdb.conf"), "-pidfile", directory.file("influxd.pid")])
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if (try? ping()) == true { return }
            usleep(50_000)
        }
        throw DeadlineExceeded(what: "influxd /ping", seconds: 15)
    }

    public func stop() {
        process?.stop()
        process = nil
    }

    func ping() throws -> Bool {
        let client = try CurlHTTPClient(options: .init(timeout: 1))
        return try client.get(url: "\(url)/ping").status == 204
    }

    /// Runs InfluxQL; returns the decoded JSON.
    @discardableResult
    public func query(_ q: String, db: String? = nil) throws -> [String: Any] {
        var body = "q=" + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q) + "&epoch=ns"
        if let db { body += "&db=\(db)" }
        let client = try CurlHTTPClient(options: .init(timeout: 10, maxBodyBytes: 16 << 20))  // query answers of full models exceed the 64 KiB default
        let response = try client.post(url: "\(url)/query", body: Array(body.utf8), headers: ["Content-Type: application/x-www-form-urlencoded"])
        guard let json = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any] else {
            throw DeadlineExceeded(what: "query answer (\(response.status))", seconds: 0)
        }
        return json
    }

    /// Rows of the first series of a SELECT: column name → value.
    public func select(_ q: String, db: String) throws -> [[String: Any]] {
        let json = try query(q, db: db)
        guard let results = json["results"] as? [[String: Any]], let series = results.first?["series"] as? [[String: Any]] else { return [] }
        var rows: [[String: Any]] = []
        for s in series {
            let columns = s["columns"] as? [String] ?? []
            let tags = s["tags"] as? [String: Any] ?? [:]
            for values in s["values"] as? [[Any]] ?? [] {
                var row = tags
                for (c, v) in zip(columns, values) { row[c] = v }
                rows.append(row)
            }
        }
        return rows
    }
}
