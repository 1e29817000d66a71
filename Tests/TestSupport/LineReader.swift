import Foundation

/// Collects a pipe's output on a background thread and hands out complete lines, with deadlines.
///
/// `@unchecked Sendable`: `buffer`, `lines` and `closed` are only accessed under `condition`.
public final class LineReader: @unchecked Sendable {
    private let condition = NSCondition()
    private var buffer = Data()
    private var lines: [String] = []
    private var closed = false
    private var all: [String] = []

    public init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let data = handle.availableData
                condition.lock()
                if data.isEmpty {
                    closed = true
                    if !buffer.isEmpty { let s = String(decoding: buffer, as: UTF8.self); lines.append(s); all.append(s); buffer.removeAll() }
                    condition.broadcast()
                    condition.unlock()
                    return
                }
                buffer.append(data)
                while let newline = buffer.firstIndex(of: 0x0A) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    lines.append(line)
                    all.append(line)
                }
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// The next unread line, waiting up to `timeout` seconds; nil on timeout or end of stream.
    public func nextLine(timeout: Double) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while lines.isEmpty && !closed {
            if !condition.wait(until: deadline) { break }
        }
        return lines.isEmpty ? nil : lines.removeFirst()
    }

    /// Every line seen so far (read or not).
    public var transcript: [String] { condition.withLock { all } }
}
