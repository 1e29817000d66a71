import NIOCore

/// One file of the web console, embedded in the binary: its bytes, content type and a strong ETag.
struct ConsoleAsset: Sendable {
    let name: String
    let contentType: String
    let body: ByteBuffer
    /// A quoted hash of the bytes: browsers revalidate with If-None-Match and get 304 while it is unchanged.
    let etag: String

    init(name: String, contentType: String, bytes: [UInt8]) {
        self.name = name
        self.contentType = contentType
        body = ByteBuffer(bytes: bytes)
        etag = "\"\(Self.fnv1a(bytes))\""
    }

    /// 64-bit FNV-1a, hex: cheap and stable; the ETag only has to change when the bytes do.
    static func fnv1a(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
