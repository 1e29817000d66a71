import Foundation
import ControlProtocol
import HPCore
import Hummingbird
import Logging

/// Authentication and roles. No tokens configured: loopback clients only, read-write. Otherwise
/// every request needs `Authorization: Bearer <token>` (401 without or with an unknown one), and
/// a viewer's write is 403 (settings changes need admin: the route checks that). Tokens are never logged; the caller's token name is.
struct TokenAuthMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let tokens: [HTTPSettings.Token]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let caller = try authenticate(request, context)
        let writes = ![.get, .head, .options].contains(request.method)
        if writes && !caller.mayWrite {
            throw CommandError(.forbidden, "token \"\(caller.name)\" has role viewer; \(request.method) needs operator or admin")
        }
        context.caller = caller
        context.logger[metadataKey: "token_name"] = "\(caller.name)"
        return try await next(request, context)
    }

    private func authenticate(_ request: Request, _ context: Context) throws -> APICaller {
        if !tokens.isEmpty && ConsoleAssets.isPublic(request) {
            // The console's static files hold no data; the page asks for a token and sends it on every API call.
            return APICaller(name: "console", role: .viewer)
        }
        if tokens.isEmpty {
            guard context.isLoopback else {
                throw CommandError(.forbidden, "no API tokens are configured, so only clients on this machine are served")
            }
            return APICaller(name: "loopback", role: .admin)
        }
        guard let header = request.headers[.authorization] else {
            throw CommandError(.unauthorized, "this API needs Authorization: Bearer <token>")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw CommandError(.unauthorized, "the Authorization header must be Bearer <token>")
        }
        let presented = String(parts[1]).trimmingCharacters(in: .whitespaces)
        // Every configured hash is checked (no early exit): the time taken says nothing about which one matched.
        var match: HTTPSettings.Token?
        for token in tokens where APITokenHash.matches(presented, stored: token.hash) && match == nil { match = token }
        guard let match else { throw CommandError(.unauthorized, "unknown token") }
        return APICaller(name: match.name, role: match.role)
    }
}
