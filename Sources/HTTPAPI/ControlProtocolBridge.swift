import ControlProtocol
import Foundation

/// The socket's argument decoding, for HTTP bodies (the same `bad_request` messages).
enum ControlProtocolBridge {
    static func decode<T: Decodable>(_ type: T.Type, _ data: Data, _ operation: String) throws -> T {
        if data.isEmpty { throw CommandError(.badRequest, "\(operation) needs a JSON body") }
        return try CommandArguments.decode(type, from: data, command: operation)
    }
}
