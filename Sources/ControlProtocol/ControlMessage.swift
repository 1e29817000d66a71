import Foundation

/// Version of the control protocol; requests may omit `v` (then 1).
public let controlProtocolVersion = 1

/// One request line: `{"v":1,"id":"…","cmd":"status","args":{…}}`.
public struct ControlRequest: Sendable, Codable {
    public var v: Int?
    public var id: String?
    public var cmd: String
    public var args: [String: JSONValue]?

    public init(cmd: String, args: [String: JSONValue] = [:], id: String? = nil) {
        v = controlProtocolVersion
        self.id = id
        self.cmd = cmd
        self.args = args
    }
}

/// One response line: `{"v":1,"id":"…","ok":true,"result":…}` or `{"ok":false,"error":{"code":…,"message":…}}`.
public struct ControlResponse: Sendable, Codable {
    public struct ErrorBody: Sendable, Codable, Error {
        public var code: String
        public var message: String
        /// The input field at fault, when one is.
        public var field: String?

        public init(code: String, message: String, field: String? = nil) {
            self.code = code
            self.message = message
            self.field = field
        }
    }

    public var v: Int
    public var id: String?
    public var ok: Bool
    public var result: JSONValue?
    public var error: ErrorBody?

    public static func success(_ result: JSONValue, id: String?) -> ControlResponse {
        ControlResponse(v: controlProtocolVersion, id: id, ok: true, result: result, error: nil)
    }

    public static func failure(_ code: String, _ message: String, field: String? = nil, id: String?) -> ControlResponse {
        ControlResponse(v: controlProtocolVersion, id: id, ok: false, result: nil, error: ErrorBody(code: code, message: message, field: field))
    }

    /// The response as one line of JSON (no trailing newline).
    public func line() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return #"{"v":1,"ok":false,"error":{"code":"internal","message":"encoding failed"}}"# }
        return String(decoding: data, as: UTF8.self)
    }
}
