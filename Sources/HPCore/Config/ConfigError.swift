/// A configuration problem, located by file, line and field.
///
/// Messages say what was expected, what was found, and where.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case unreadableFile
        case syntax
        case unknownKey
        case missingKey
        case invalidType
        case invalidValue
        case duplicate
        case unknownModel
        case environment
    }

    public var code: Code
    public var file: String
    public var line: Int
    public var field: String
    public var message: String

    public init(_ code: Code, file: String, line: Int, field: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        let location = line > 0 ? "\(file):\(line)" : file
        return field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
    }
}

/// Every problem found in one load, so an operator fixes them in one go.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]

    public init(_ errors: [ConfigError]) { self.errors = errors }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
