import Foundation
import ModbusKit
import NIOCore
import NIOPosix
import Synchronization

/// A Modbus TCP peer on loopback whose answers a test scripts byte by byte: wrong units, broken
/// headers, duplicates, trickled responses. It records every request frame it receives.
final class ScriptedModbusPeer: Sendable {
    enum Answer: Sendable {
        /// Send these bytes at once.
        case bytes([UInt8])
        /// Send these bytes one at a time, `interval` apart (a slow-loris device).
        case trickle([UInt8], interval: TimeAmount)
        /// Close the connection.
        case close
    }

    /// What to answer to a request frame (transaction id, unit, PDU) — several answers are sent in order.
    typealias Script = @Sendable (_ tid: UInt16, _ unit: UInt8, _ pdu: [UInt8]) -> [Answer]

    private let channel: any Channel
    let port: Int

    init(group: any EventLoopGroup, script: @escaping Script) throws {
        let box = Recorder()
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(PeerHandler(script: script, record: box.append))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress?.port ?? 0
        recorder = box
    }

    private let recorder: Recorder

    /// Request frames received so far, whole (MBAP header included).
    var requests: [[UInt8]] { recorder.frames }

    func stop() {
        try? channel.close().wait()
    }

    /// The standard answer to a request: registers/bits with value = address, writes echoed.
    static func answer(tid: UInt16, unit: UInt8, pdu: [UInt8]) -> [UInt8] {
        let function = pdu[0]
        let address = Int(pdu[1]) << 8 | Int(pdu[2])
        let count = Int(pdu[3]) << 8 | Int(pdu[4])
        var body: [UInt8] = [function]
        switch function {
        case 3, 4:
            body.append(UInt8(count * 2))
            for i in 0..<count { body += [UInt8((address + i) >> 8 & 0xFF), UInt8((address + i) & 0xFF)] }
        case 1, 2:
            let bytes = (count + 7) / 8
            body.append(UInt8(bytes))
            body += [UInt8](repeating: 0b0101_0101, count: bytes)
        default:
            body += pdu[1..<5]
        }
        return frame(tid: tid, unit: unit, pdu: body)
    }

    static func frame(tid: UInt16, unit: UInt8, pdu: [UInt8], protocolID: UInt16 = 0, length: Int? = nil) -> [UInt8] {
        let len = length ?? pdu.count + 1
        return [UInt8(tid >> 8), UInt8(tid & 0xFF), UInt8(protocolID >> 8), UInt8(protocolID & 0xFF),
                UInt8(len >> 8 & 0xFF), UInt8(len & 0xFF), unit] + pdu
    }
}

private final class Recorder: Sendable {
    private let store = Mutex<[[UInt8]]>([])
    var frames: [[UInt8]] { store.withLock { $0 } }
    func append(_ frame: [UInt8]) { store.withLock { $0.append(frame) } }
}

private final class PeerHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked Sendable: `pending` is only touched on the child channel's event loop.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let script: ScriptedModbusPeer.Script
    let record: @Sendable ([UInt8]) -> Void
    private var pending: [UInt8] = []

    init(script: @escaping ScriptedModbusPeer.Script, record: @escaping @Sendable ([UInt8]) -> Void) {
        self.script = script
        self.record = record
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        pending += buffer.readBytes(length: buffer.readableBytes) ?? []
        while pending.count >= 7 {
            let length = Int(pending[4]) << 8 | Int(pending[5])
            guard pending.count >= 6 + length else { return }
            let frame = Array(pending[0..<(6 + length)])
            pending.removeFirst(6 + length)
            record(frame)
            let tid = UInt16(frame[0]) << 8 | UInt16(frame[1])
            for answer in script(tid, frame[6], Array(frame[7...])) {
                switch answer {
                case .bytes(let bytes):
                    send(bytes, after: .zero, context: context)
                case .trickle(let bytes, let interval):
                    for byte in bytes { send([byte], after: interval, context: context) }
                case .close:
                    let channel = context.channel
                    channel.eventLoop.scheduleTask(deadline: max(NIODeadline.now(), busyUntil)) { channel.close(promise: nil) }
                }
            }
        }
    }

    /// A device answers one frame after the other: a later answer never overtakes an earlier one.
    private var busyUntil = NIODeadline.uptimeNanoseconds(0)

    private func send(_ bytes: [UInt8], after delay: TimeAmount, context: ChannelHandlerContext) {
        let channel = context.channel
        let at = max(NIODeadline.now(), busyUntil) + delay
        busyUntil = at
        channel.eventLoop.scheduleTask(deadline: at) {
            var buffer = channel.allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            channel.writeAndFlush(buffer, promise: nil)
        }
    }
}
