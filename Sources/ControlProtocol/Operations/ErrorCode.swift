/// A stable, machine-readable error code, the same on the control socket and over HTTP.
///
/// A struct with named constants rather than a closed enum (the shape of swift-http-types'
/// `HTTPResponse.Status`): a command added elsewhere can throw a code of its own
/// (`ControlError("detect_failed", …)`) and it reaches clients unchanged; `httpStatus` maps the
/// known ones and falls back to 500 for a code nobody mapped yet.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }

    // Bad input (400).
    public static let badRequest: ErrorCode = "bad_request"
    public static let unknownCommand: ErrorCode = "unknown_command"
    public static let invalidDevice: ErrorCode = "invalid_device"
    public static let configInvalid: ErrorCode = "config_invalid"
    // Auth (401/403).
    public static let unauthorized: ErrorCode = "unauthorized"
    public static let forbidden: ErrorCode = "forbidden"
    // Unknown id or register (404), method (405).
    public static let notFound: ErrorCode = "not_found"
    public static let unknownRegister: ErrorCode = "unknown_register"
    public static let methodNotAllowed: ErrorCode = "method_not_allowed"
    // Conflicts (409).
    public static let conflict: ErrorCode = "conflict"
    public static let exists: ErrorCode = "exists"
    public static let definedInFile: ErrorCode = "defined_in_file"
    public static let disabled: ErrorCode = "disabled"
    public static let eepromBudget: ErrorCode = "eeprom_budget"
    public static let notLive: ErrorCode = "not_live"
    // Body too large (413), value out of range or not writable (422), too many at once (429).
    public static let payloadTooLarge: ErrorCode = "payload_too_large"
    public static let rejected: ErrorCode = "rejected"
    public static let outOfRange: ErrorCode = "out_of_range"
    /// The model has no such operation (SG Ready, PV surplus) over Modbus.
    public static let unsupported: ErrorCode = "unsupported"
    public static let busy: ErrorCode = "busy"
    // The device or the daemon cannot serve it now (503).
    public static let offline: ErrorCode = "offline"
    public static let deviceError: ErrorCode = "device_error"
    public static let failed: ErrorCode = "failed"
    public static let unavailable: ErrorCode = "unavailable"
    public static let notStarted: ErrorCode = "not_started"
    public static let shuttingDown: ErrorCode = "shutting_down"
    // Our fault (500).
    public static let storeFailed: ErrorCode = "store_failed"
    public static let `internal`: ErrorCode = "internal"

    /// The HTTP status an error with this code is answered with.
    public var httpStatus: Int {
        switch self {
        case .badRequest, .unknownCommand, .invalidDevice, .configInvalid: 400
        case .unauthorized: 401
        case .forbidden: 403
        case .notFound, .unknownRegister: 404
        case .methodNotAllowed: 405
        case .conflict, .exists, .definedInFile, .disabled, .eepromBudget, .notLive: 409
        case .payloadTooLarge: 413
        case .rejected, .outOfRange, .unsupported: 422
        case .busy: 429
        case .offline, .deviceError, .failed, .unavailable, .notStarted, .shuttingDown: 503
        default: 500
        }
    }

    /// Every code above, for documentation and tests.
    public static let known: [ErrorCode] = [
        .badRequest, .unknownCommand, .invalidDevice, .configInvalid, .unauthorized, .forbidden, .notFound, .unknownRegister,
        .methodNotAllowed, .conflict, .exists, .definedInFile, .disabled, .eepromBudget, .notLive, .payloadTooLarge, .rejected,
        .outOfRange, .unsupported, .busy, .offline, .deviceError, .failed, .unavailable, .notStarted, .shuttingDown, .storeFailed, .internal,
    ]
}
