import ControlProtocol
import Foundation
import Hummingbird
import NIOCore
import Supervisor

/// Errors as HTTP answers them: `{"error":{"code","message"}}` with the code's status.
enum APIError {
    struct Body: Encodable {
        var error: CommandError
    }

    static func response(_ error: CommandError) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if error.code == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="hpmanagerd""# }
        let data = (try? APIJSON.encoder.encode(Body(error: error))) ?? Data(#"{"error":{"code":"internal","message":"encoding failed"}}"#.utf8)
        return Response(status: .init(code: error.httpStatus), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Any error a route or Hummingbird throws, as a `CommandError`.
    static func commandError(_ error: any Error) -> CommandError {
        if error is NIOTooManyBytesError { return CommandError(.payloadTooLarge, "the request body is larger than allowed") }
        if let error = error as? HTTPError {
            let message = error.body ?? error.status.reasonPhrase
            switch error.status.code {
            case 400: return CommandError(.badRequest, message)
            case 404: return CommandError(.notFound, "no such resource")
            case 405: return CommandError(.methodNotAllowed, message)
            case 413: return CommandError(.payloadTooLarge, "the request body is larger than allowed")
            default: return CommandError(ErrorCode(rawValue: error.status.code >= 500 ? "internal" : "bad_request"), message)
            }
        }
        return FleetOperations.commandError(error)
    }
}

/// Every API error becomes the JSON error body; unexpected ones are logged (the client gets no internals beyond the message).
struct APIErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let failure = APIError.commandError(error)
            if failure.httpStatus >= 500 && failure.httpStatus != 503 {
                context.logger.error("HTTP request failed", metadata: ["path": "\(request.uri.path)", "error": "\(failure.message)"])
            }
            return APIError.response(failure)
        }
    }
}
