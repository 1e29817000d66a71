import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

/// A libmosquitto return code (`MOSQ_ERR_*`) as a Swift error; `errno` is captured right after the
/// call when the code is `MOSQ_ERR_ERRNO` (connection refused, unreachable, …).
public struct MosquittoError: Error, Sendable, CustomStringConvertible {
    /// The `MOSQ_ERR_*` code.
    public var code: Int32
    /// `errno` for `MOSQ_ERR_ERRNO`, else 0.
    public var errno: Int32
    /// What was being done (`connect`, `publish`, …).
    public var operation: String
    /// What libmosquitto said about it in its log (the OpenSSL reason behind a TLS error:
    /// `certificate verify failed`), or which file could not be read.
    public var detail: String?

    public init(code: Int32, errno: Int32 = 0, operation: String, detail: String? = nil) {
        self.code = code
        self.errno = errno
        self.operation = operation
        self.detail = detail
    }

    /// Builds the error for `rc`, reading `errno` at once (before anything else can change it).
    static func check(_ rc: Int32, _ operation: String) throws(MosquittoError) {
        guard rc != MOSQ_ERR_SUCCESS.rawValue else { return }
        let saved = rc == MOSQ_ERR_ERRNO.rawValue ? Glibc.errno : 0
        throw MosquittoError(code: rc, errno: saved, operation: operation)
    }

    public var message: String {
        if code == MOSQ_ERR_ERRNO.rawValue, errno != 0 { return String(cString: strerror(errno)) }
        return String(cString: mosquitto_strerror(code))
    }

    /// The broker refused the login (bad user name or password, not authorised).
    public var isAuthentication: Bool { code == MOSQ_ERR_AUTH.rawValue || code == MOSQ_ERR_CONN_REFUSED.rawValue }

    /// libmosquitto refuses this message itself (too large, invalid or non-UTF-8 topic): retrying cannot help.
    public var isUnsendable: Bool {
        code == MOSQ_ERR_PAYLOAD_SIZE.rawValue || code == MOSQ_ERR_INVAL.rawValue || code == MOSQ_ERR_MALFORMED_UTF8.rawValue
            || code == MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue || code == MOSQ_ERR_OVERSIZE_PACKET.rawValue
    }

    public var description: String {
        "mqtt \(operation): \(message) (\(code))" + (detail.map { ": \($0)" } ?? "")
    }
}
