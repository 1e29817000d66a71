import Foundation

/// A field InfluxDB refuses because the shard already holds it with another type, read from the
/// server's answer. InfluxDB 1.x (400) and 2.x (422) both say
/// `field type conflict: input field "x" on measurement "m" is type integer, already exists as type float`,
/// inside a JSON body (`error` in 1.x, `message` in 2.x).
struct FieldTypeConflict: Hashable, Sendable {
    var measurement: String
    var field: String
    /// The type of the value we sent (`integer`, `float`, `string`, `boolean`, `unsigned`).
    var inputType: String
    /// The type the field already has.
    var existingType: String

    init(measurement: String, field: String, inputType: String, existingType: String) {
        self.measurement = measurement
        self.field = field
        self.inputType = inputType
        self.existingType = existingType
    }

    /// The first conflict named in a response body, or nil when the answer names none.
    init?(response body: String) {
        var text = body
        if let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] {
            text = (object["error"] as? String) ?? (object["message"] as? String) ?? body
        }
        guard let range = text.range(of: "input field \"") else { return nil }
        let rest = text[range.upperBound...]
        // Field keys may contain quotes; the fixed words after them end the key.
        guard let fieldEnd = rest.range(of: "\" on measurement \"") else { return nil }
        let afterField = rest[fieldEnd.upperBound...]
        guard let measurementEnd = afterField.range(of: "\" is type ") else { return nil }
        let afterMeasurement = afterField[measurementEnd.upperBound...]
        guard let typeEnd = afterMeasurement.range(of: ", already exists as type ") else { return nil }
        let existing = afterMeasurement[typeEnd.upperBound...].prefix { $0.isLetter }
        field = String(rest[..<fieldEnd.lowerBound])
        measurement = String(afterField[..<measurementEnd.lowerBound])
        inputType = String(afterMeasurement[..<typeEnd.lowerBound])
        existingType = String(existing)
        guard !field.isEmpty, !inputType.isEmpty else { return nil }
    }

    /// Whether `field` of a line with this measurement is the refused one.
    func matches(measurement: String, _ field: LineProtocolLine.Field) -> Bool {
        field.key == self.field && measurement == self.measurement && field.type == inputType
    }
}
