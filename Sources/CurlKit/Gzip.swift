import CZlib

/// gzip compression of request bodies (`Content-Encoding: gzip`).
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public let code: Int32
        public var description: String { "zlib error \(code)" }
    }

    public static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        guard hp_deflate_init_gzip(&stream, level) == Z_OK else { throw Failure(code: Z_STREAM_ERROR) }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var source = input
        let status: Int32 = source.withUnsafeMutableBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = UInt32(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = UInt32(dst.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure(code: status) }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}
