import CurlKit
import Foundation
import HPCore

/// Sends line-protocol bodies to InfluxDB 1.x (`/write?db=…`) or 2.x (`/api/v2/write?org=…&bucket=…`).
/// Runs on the Influx sink's I/O strand.
///
/// Credentials travel only in the `Authorization` header (v1 user/password as Basic auth, which
/// InfluxDB 1.x accepts like `u=`/`p=`; tokens as `Token …`), never in the URL, so no error message
/// or log line that names the URL can carry a secret.
final class InfluxWriter {
    enum Outcome {
        case accepted
        /// Retry later (network error, 429, 5xx), after at least `after` seconds if the server said so.
        case retry(reason: String, after: Double?)
        /// The server rejected the data itself (400, 413, 422): retrying the same lines cannot help.
        case rejected(status: Int, message: String)
    }

    let url: String
    private let headers: [String]
    private let gzip: Bool
    private let client: CurlHTTPClient

    init(settings: InfluxSettings, shouldAbort: (@Sendable () -> Bool)? = nil) throws {
        let base = settings.url.hasSuffix("/") ? String(settings.url.dropLast()) : settings.url
        func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? s }
        var token = settings.token
        if !settings.tokenFile.isEmpty {
            token = (try String(contentsOfFile: settings.tokenFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var headers = ["Content-Type: text/plain; charset=utf-8"]
        gzip = settings.gzip
        if settings.gzip { headers.append("Content-Encoding: gzip") }
        if settings.version == 1 {
            var query = "db=\(q(settings.database))&precision=\(settings.precision)"
            if !settings.retentionPolicy.isEmpty { query += "&rp=\(q(settings.retentionPolicy))" }
            url = "\(base)/write?\(query)"
            if !settings.username.isEmpty {
                headers.append("Authorization: Basic " + Data("\(settings.username):\(settings.password)".utf8).base64EncodedString())
            } else if !token.isEmpty {
                headers.append("Authorization: Token \(token)")
            }
        } else {
            url = "\(base)/api/v2/write?org=\(q(settings.org))&bucket=\(q(settings.bucket))&precision=\(settings.precision)"
            if !token.isEmpty { headers.append("Authorization: Token \(token)") }
        }
        self.headers = headers
        client = try CurlHTTPClient(options: .init(timeout: settings.timeout, caFile: settings.caFile.isEmpty ? nil : settings.caFile,
                                                   insecureSkipVerify: settings.insecureSkipVerify, shouldAbort: shouldAbort))
    }

    func write(_ body: String) -> Outcome {
        do {
            let bytes = gzip ? try Gzip.compress(Array(body.utf8)) : Array(body.utf8)
            let response = try client.post(url: url, body: bytes, headers: headers)
            switch response.status {
            case 200..<300: return .accepted
            case 429, 500...599: return .retry(reason: "HTTP \(response.status): \(response.body.prefix(200))", after: response.retryAfter)
            case 400, 413, 422: return .rejected(status: response.status, message: String(response.body.prefix(1000)))
            default:
                // 401/403/404: configuration or server state (e.g. database missing) — keep the data, retry.
                return .retry(reason: "HTTP \(response.status): \(response.body.prefix(200))", after: response.retryAfter)
            }
        } catch {
            return .retry(reason: "\(error)", after: nil)
        }
    }
}
