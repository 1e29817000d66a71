/// Byte order of a multi-byte value across Modbus registers, in Telegraf/pymodbus terms.
///
/// Letters name the bytes of the value from most to least significant (A = MSB) in wire order:
/// - `ABCD`: big-endian (default, Modbus standard).
/// - `CDAB`: word-swapped; for 64-bit values all four words reversed (GHEFCDAB).
/// - `BADC`: bytes swapped inside each word.
/// - `DCBA`: little-endian.
public enum ByteOrder: String, Sendable, Hashable, CaseIterable {
    case abcd = "ABCD"
    case cdab = "CDAB"
    case badc = "BADC"
    case dcba = "DCBA"

    public init?(configName: String) {
        switch configName.uppercased() {
        case "ABCD", "BIG", "BIG_ENDIAN", "AB", "ABCDEFGH": self = .abcd
        case "CDAB", "WORD_SWAP", "GHEFCDAB": self = .cdab
        case "BADC", "BYTE_SWAP", "BA", "BADCFEHG": self = .badc
        case "DCBA", "LITTLE", "LITTLE_ENDIAN", "HGFEDCBA": self = .dcba
        default: return nil
        }
    }

    /// Whether words arrive least-significant first.
    public var wordsReversed: Bool { self == .cdab || self == .dcba }
    /// Whether the two bytes inside each word are swapped.
    public var bytesSwapped: Bool { self == .badc || self == .dcba }
}
