import Foundation
import Hummingbird
import NIOCore

/// The web console's files (`Sources/HTTPAPI/Resources/console`, embedded with `.embedInCode`) and
/// how they are served: `/` is the page, `/console/<file>` the scripts and styles. Every response
/// carries its content type, `Cache-Control: no-cache` with an ETag (revalidated, 304 when
/// unchanged: the files have no hashed names, so a new daemon version must never be hidden by a
/// cached copy) and `X-Content-Type-Options: nosniff`.
enum ConsoleAssets {
    static let index = ConsoleAsset(name: "index.html", contentType: "text/html; charset=utf-8", bytes: PackageResources.index_html)

    static let files: [String: ConsoleAsset] = Dictionary(uniqueKeysWithValues: [
        ConsoleAsset(name: "console.css", contentType: "text/css; charset=utf-8", bytes: PackageResources.console_css),
        ConsoleAsset(name: "api.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.api_js),
        ConsoleAsset(name: "chart.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.chart_js),
        ConsoleAsset(name: "fleet.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.fleet_js),
        ConsoleAsset(name: "device.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.device_js),
        ConsoleAsset(name: "wizard.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.wizard_js),
        ConsoleAsset(name: "compare.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.compare_js),
        ConsoleAsset(name: "settings.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.settings_js),
        ConsoleAsset(name: "app.js", contentType: "text/javascript; charset=utf-8", bytes: PackageResources.app_js),
        ConsoleAsset(name: "favicon.svg", contentType: "image/svg+xml", bytes: PackageResources.favicon_svg),
    ].map { ($0.name, $0) })

    /// The asset a GET/HEAD of `path` names, if any (query strings are ignored).
    static func asset(at path: String) -> ConsoleAsset? {
        if path == "/" || path == "/index.html" { return index }
        guard path.hasPrefix("/console/") else { return nil }
        return files[String(path.dropFirst("/console/".count))]
    }

    /// Static files hold no fleet data, so they are served without a bearer token (the page then
    /// asks for one); the loopback-only rule still applies when no tokens are configured.
    static func isPublic(_ request: Request) -> Bool {
        (request.method == .get || request.method == .head) && asset(at: request.uri.path) != nil
    }

    static func response(_ asset: ConsoleAsset, for request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = asset.contentType
        headers[.cacheControl] = "no-cache"
        headers[.eTag] = asset.etag
        headers[.xContentTypeOptions] = "nosniff"
        if asset.name == "index.html" {
            // The page loads only its own files and talks only to this daemon.
            headers[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
        }
        if let presented = request.headers[.ifNoneMatch], presented.split(separator: ",").contains(where: {
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return tag == asset.etag || tag == "W/" + asset.etag || tag == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentLength] = String(asset.body.readableBytes)
        return Response(status: .ok, headers: headers, body: request.method == .head ? .init() : .init(byteBuffer: asset.body))
    }
}
