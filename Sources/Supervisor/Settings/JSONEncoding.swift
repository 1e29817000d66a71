import ControlProtocol
import Foundation

/// JSON text of settings values as stored and audited: sorted keys, so equal values give equal text.
enum JSONEncoding {
    static func data(_ value: JSONValue) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    static func text(_ value: JSONValue) -> String {
        (try? data(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    static func value(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }
}
