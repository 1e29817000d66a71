import Crypto
import Foundation

/// API tokens as they are stored in collector.yml: `sha256:<salt hex>:<digest hex>`, where the
/// digest is SHA-256 of the salt bytes followed by the token's UTF-8. Tokens are long random
/// strings (`hpmanagerctl hash-token` makes one), so one salted hash suffices; no password KDF.
public enum APITokenHash {
    /// A new random token: 32 random bytes, hex.
    public static func newToken() -> String {
        hex((0..<32).map { _ in UInt8.random(in: .min ... .max) })
    }

    /// The stored form of `token` with a fresh random salt (or `salt`, for tests).
    public static func hash(_ token: String, salt: [UInt8]? = nil) -> String {
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        return "sha256:\(hex(salt)):\(hex(digest(salt: salt, token: token)))"
    }

    /// Whether `token` matches `stored`; the digests are compared in constant time.
    public static func matches(_ token: String, stored: String) -> Bool {
        let parts = stored.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "sha256", let salt = bytes(parts[1]), let expected = bytes(parts[2]), expected.count == 32 else {
            return false
        }
        let actual = digest(salt: salt, token: token)
        var difference: UInt8 = 0
        for (a, b) in zip(actual, expected) { difference |= a ^ b }
        return difference == 0
    }

    static func digest(salt: [UInt8], token: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(token.utf8))
        return Array(hasher.finalize())
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(_ text: Substring) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
