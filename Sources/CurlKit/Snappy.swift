import CSnappy

/// Snappy block compression (libsnappy's C API) for request bodies: Prometheus remote write
/// sends `Content-Encoding: snappy` in the block format, not the framed stream format.
public enum Snappy {
    public struct Failure: Error, CustomStringConvertible {
        public let status: Int
        public let operation: String
        public var description: String { "snappy \(operation) failed (status \(status))" }
    }

    public static func compress(_ input: [UInt8]) throws -> [UInt8] {
        var length = snappy_max_compressed_length(input.count)
        var output = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                src.withMemoryRebound(to: CChar.self) { s in
                    dst.withMemoryRebound(to: CChar.self) { d in
                        snappy_compress(s.baseAddress, s.count, d.baseAddress, &length)
                    }
                }
            }
        }
        guard status == SNAPPY_OK else { throw Failure(status: Int(status.rawValue), operation: "compress") }
        output.removeSubrange(length...)
        return output
    }

    /// Decompression, for tests and for reading spooled bodies back.
    public static func uncompress(_ input: [UInt8]) throws -> [UInt8] {
        var length = 0
        let sized = input.withUnsafeBufferPointer { src in
            src.withMemoryRebound(to: CChar.self) { snappy_uncompressed_length($0.baseAddress, $0.count, &length) }
        }
        guard sized == SNAPPY_OK, length <= 1 << 30 else { throw Failure(status: Int(sized.rawValue), operation: "uncompress") }
        var output = [UInt8](repeating: 0, count: length)
        let status = input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                src.withMemoryRebound(to: CChar.self) { s in
                    dst.withMemoryRebound(to: CChar.self) { d in
                        snappy_uncompress(s.baseAddress, s.count, d.baseAddress, &length)
                    }
                }
            }
        }
        guard status == SNAPPY_OK else { throw Failure(status: Int(status.rawValue), operation: "uncompress") }
        output.removeSubrange(length...)
        return output
    }
}
