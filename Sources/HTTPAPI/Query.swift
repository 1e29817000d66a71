import ControlProtocol

/// Query parameters: wrong types are 400, values outside their range 422.
enum Query {
    static func number(_ text: Substring?, _ key: String, within range: ClosedRange<Double>) throws -> Double? {
        guard let text else { return nil }
        guard let value = Double(text), value.isFinite else { throw CommandError(.badRequest, "\"\(key)\" must be a number, found \"\(text)\"") }
        guard range.contains(value) else {
            throw CommandError(.outOfRange, "\"\(key)\" must be within \(range.lowerBound)-\(range.upperBound), found \(value)")
        }
        return value
    }

    static func bool(_ text: Substring?, _ key: String) throws -> Bool? {
        switch text {
        case nil: return nil
        case "true"?, "1"?: return true
        case "false"?, "0"?: return false
        default: throw CommandError(.badRequest, "\"\(key)\" must be true or false")
        }
    }
}
