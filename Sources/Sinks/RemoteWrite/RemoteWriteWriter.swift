import CurlKit
import Foundation
import HPCore

/// Posts remote-write bodies to one receiver. Runs on the remote-write sink's I/O strand.
///
/// Credentials are read from their files for every request (a rotated token is picked up without
/// a restart, as Prometheus does) and travel only in the `Authorization` header, never in a log line.
final class RemoteWriteWriter {
    enum Outcome {
        case accepted
        /// Retry later (network error, 429, 5xx, unreadable credentials), after at least `after` seconds if the server said so.
        case retry(reason: String, after: Double?)
        /// Any other 4xx: the receiver refuses these samples; sending them again cannot help.
        case rejected(status: Int, message: String)
    }

    let settings: RemoteWriteSettings
    private let client: CurlHTTPClient
    private let fixedHeaders: [String]
    private let timings: RemoteWriteTimings?

    init(settings: RemoteWriteSettings, version: String, timings: RemoteWriteTimings? = nil, shouldAbort: (@Sendable () -> Bool)? = nil) throws {
        self.settings = settings
        self.timings = timings
        fixedHeaders = [
            "Content-Type: application/x-protobuf", "Content-Encoding: snappy",
            "X-Prometheus-Remote-Write-Version: 0.1.0", "User-Agent: hpmanager/\(version)",
        ] + settings.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
        client = try CurlHTTPClient(options: .init(timeout: settings.timeout, caFile: settings.caFile.isEmpty ? nil : settings.caFile,
                                                   insecureSkipVerify: settings.insecureSkipVerify, shouldAbort: shouldAbort))
    }

    func write(_ samples: [RemoteWriteSample]) -> Outcome {
        let headers: [String]
        do {
            headers = fixedHeaders + (try authorization().map { [$0] } ?? [])
        } catch {
            return .retry(reason: "cannot read credentials: \(error)", after: nil)
        }
        do {
            let clock = ContinuousClock()
            let start = clock.now
            let body = try RemoteWriteEncoder.body(samples)
            let encoded = clock.now
            let response = try client.post(url: settings.url, body: body, headers: headers)
            timings?.record(encode: encoded - start, request: clock.now - encoded, bytes: body.count)
            switch response.status {
            case 200..<300: return .accepted
            case 429, 500...599: return .retry(reason: "HTTP \(response.status): \(response.body.prefix(200))", after: response.retryAfter)
            case 400..<500: return .rejected(status: response.status, message: String(response.body.prefix(1000)))
            default: return .retry(reason: "HTTP \(response.status): \(response.body.prefix(200))", after: response.retryAfter)
            }
        } catch {
            return .retry(reason: "\(error)", after: nil)
        }
    }

    private func authorization() throws -> String? {
        if let auth = settings.basicAuth {
            let password = auth.passwordFile.isEmpty ? "" : try Self.secret(auth.passwordFile)
            return "Authorization: Basic " + Data("\(auth.username):\(password)".utf8).base64EncodedString()
        }
        if !settings.bearerTokenFile.isEmpty { return "Authorization: Bearer " + (try Self.secret(settings.bearerTokenFile)) }
        return nil
    }

    private static func secret(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
