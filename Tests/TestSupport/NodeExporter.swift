import CurlKit
import Foundation

/// `prometheus-node-exporter` with only the textfile collector, on a free loopback port.
public final class NodeExporter: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init.
    public let port: Int
    private let process: ManagedProcess

    public init(textfileDirectory: String) throws {
        port = try freeLoopbackPort()
        process = try ManagedProcess(executable: "/usr/bin/prometheus-node-exporter", arguments: [
            "--web.listen-address=127.0.0.1:\(port)", "--collector.disable-defaults", "--collector.textfile",
            "--collector.textfile.directory=\(textfileDirectory)", "--web.disable-exporter-metrics",
        ])
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if (try? scrape()) != nil { return }
            usleep(50_000)
        }
        throw DeadlineExceeded(what: "node_exporter /metrics", seconds: 15)
    }

    deinit { process.stop() }

    /// One scrape of /metrics.
    public func scrape() throws -> PromMetrics {
        let response = try CurlHTTPClient(options: .init(timeout: 2, maxBodyBytes: 16 << 20)).get(url: "http://127.0.0.1:\(port)/metrics")
        guard response.status == 200 else { throw DeadlineExceeded(what: "HTTP 200 from node_exporter", seconds: 0) }
        return PromMetrics(response.body)
    }
}

/// A tiny HTTP endpoint (python3 http.server) that records every request as a JSON line and
/// answers with a fixed status: stands in for InfluxDB 2.x, which Debian does not package.
///
/// Faults for the sink's hardening tests: `setStatus` changes the answer while it runs,
/// `answerDelay` holds every answer back (a very slow server), `bodyBytes` streams a body of that size.
/// Each recorded request carries the status it was answered with and, for a binary body (remote
/// write), the body as base64 (`raw`).
public final class RecordingHTTPServer: @unchecked Sendable {
    // `@unchecked Sendable`: immutable after init.
    public let port: Int
    public let log: String
    private let statusFile: String
    private let process: ManagedProcess

    static let script = """
    import http.server, json, sys, gzip, time, os, base64
    port, log, status, retry_after, delay, body_bytes = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
    status_file = log + '.status'
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
            if self.headers.get('Content-Encoding') == 'gzip':
                body = gzip.decompress(body)
            raw = ''
            try:
                text = body.decode()
            except UnicodeDecodeError:
                text = ''  # binary (remote write: snappy protobuf): recorded as base64
                raw = base64.b64encode(body).decode()
            code = status
            if self.path != '/probe' and os.path.exists(status_file):
                code = int(open(status_file).read().strip() or status)
            with open(log, 'a') as f:
                f.write(json.dumps({'at': time.time(), 'path': self.path, 'headers': dict(self.headers), 'body': text, 'raw': raw, 'size': len(body), 'status': code}) + '\\n')
            if self.path != '/probe' and delay > 0:
                time.sleep(delay)
            self.send_response(code)
            if retry_after:
                self.send_header('Retry-After', retry_after)
            size = body_bytes if self.path != '/probe' else 0
            self.send_header('Content-Length', str(size))
            self.end_headers()
            chunk = b'x' * 65536
            sent = 0
            try:
                while sent < size:
                    n = min(len(chunk), size - sent)
                    self.wfile.write(chunk[:n])
                    sent += n
            except (BrokenPipeError, ConnectionResetError):
                pass
            with open(log + '.sent', 'a') as f:
                f.write(str(sent) + '\\n')
        def log_message(self, *a):
            pass
    http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()
    """

    public init(status: Int = 204, retryAfter: String = "", answerDelay: Double = 0, bodyBytes: Int = 0, directory: TemporaryDirectory) throws {
        port = try freeLoopbackPort()
        log = directory.file("requests.jsonl")
        statusFile = log + ".status"
        process = try ManagedProcess(executable: "/usr/bin/env", arguments: ["python3", "-c", Self.script, "\(port)", log, "\(status)", retryAfter,
                                                                           "\(answerDelay)", "\(bodyBytes)"])
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let r = try? CurlHTTPClient(options: .init(timeout: 1)).post(url: "http://127.0.0.1:\(port)/probe", body: [], headers: []), r.status > 0 { return }
            usleep(50_000)
        }
        throw DeadlineExceeded(what: "python http.server", seconds: 10)
    }

    deinit { process.signal(SIGKILL) }

    /// Answers `status` from now on.
    public func setStatus(_ status: Int) throws {
        try "\(status)\n".write(toFile: statusFile, atomically: true, encoding: .utf8)
    }

    /// Body bytes the server managed to send per answered request (the probe included).
    public func bodyBytesSent() -> [Int] {
        guard let text = try? String(contentsOfFile: log + ".sent", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { Int($0) }
    }

    /// Recorded requests (the start-up probe excluded).
    public func requests() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { ($0["path"] as? String) != "/probe" }
    }
}
