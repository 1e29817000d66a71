import Foundation
import Hummingbird
import NIOCore

/// JSON in and out of routes.
enum APIJSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// The body, at most `limit` bytes (413 beyond).
    static func body(_ request: Request, limit: Int) async throws -> Data {
        let buffer = try await request.body.collect(upTo: limit)
        return Data(buffer.readableBytesView)
    }

    /// The body decoded as `T`; malformed JSON or wrong types are 400 bad_request naming the key.
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int, operation: String) async throws -> T {
        let data = try await body(request, limit: limit)
        return try ControlProtocolBridge.decode(type, data, operation)
    }
}
