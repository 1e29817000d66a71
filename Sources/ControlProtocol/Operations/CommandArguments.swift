import Foundation

/// Turns a socket request's `args` object (or an HTTP body) into a typed request; any decoding
/// failure becomes a `bad_request` naming the key, as the hand-written checks did.
public enum CommandArguments {
    public static func decode<T: Decodable>(_ type: T.Type, from args: [String: JSONValue], command: String) throws -> T {
        // Null means "not given": drop those keys so optional fields decode as nil.
        let given = args.filter { $0.value != .null }
        let data = try JSONEncoder().encode(given)
        return try decode(type, from: data, command: command)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data, command: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw CommandError(.badRequest, describe(error, command: command))
        }
    }

    /// Throws the legacy "needs" error when a required string is empty.
    public static func require(_ value: String, _ key: String, command: String) throws {
        if value.isEmpty { throw CommandError(.badRequest, "\(command) needs \"\(key)\"") }
    }

    static func describe(_ error: DecodingError, command: String) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "\(command) needs \"\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)\""
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            // A wrong element of a list: name the list ("registers must be a list of strings").
            if let last = context.codingPath.last, last.intValue != nil {
                return "\(command): \"\(path(Array(context.codingPath.dropLast())))\" must be a list of \(plural(type))"
            }
            return "\(command): \"\(path(context.codingPath))\" must be \(expected(type, context))"
        case .dataCorrupted(let context):
            let where_ = path(context.codingPath)
            return where_.isEmpty ? "\(command): the body is not valid JSON" : "\(command): \"\(where_)\" \(context.debugDescription)"
        @unknown default:
            return "\(command): invalid arguments"
        }
    }

    private static func plural(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "strings"
        case is Double.Type, is Int.Type: "numbers"
        default: "\(type) values"
        }
    }

    private static func expected(_ type: Any.Type, _ context: DecodingError.Context) -> String {
        switch type {
        case is String.Type, is String?.Type: "a string"
        case is Double.Type, is Int.Type, is Double?.Type, is Int?.Type: "a number"
        case is Bool.Type, is Bool?.Type: "a boolean"
        case is [String].Type, is [Any].Type: "a list of strings"
        case is WriteValue.Type: "a string or number"
        case is [String: JSONValue].Type: "an object"
        default: context.debugDescription.isEmpty ? "of type \(type)" : context.debugDescription
        }
    }
}
