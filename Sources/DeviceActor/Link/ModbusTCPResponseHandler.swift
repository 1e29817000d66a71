import ModbusKit
import NIOCore

/// The only handler of a link's channel: cuts MBAP frames in place from the receive buffer and hands
/// each one, as a slice of that buffer, to the link; reports connection loss.
///
/// It replaces NIO's `ByteToMessageHandler` plus a frame decoder: no `NIOAny` box and no PDU array per
/// answer, and one handler less on every read and write. A header that breaks the protocol (protocol
/// id ≠ 0, impossible length) is an error: the stream cannot be resynchronised, so the connection is
/// dropped. Memory stays bounded: a frame is at most 260 bytes, complete frames are handed on at once,
/// and only the bytes of one incomplete frame are kept between reads.
final class ModbusTCPResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let link: ModbusLink
    /// The start of a frame split across reads (fewer bytes than one frame).
    private var partial: ByteBuffer?
    /// Set once the stream broke the protocol: later bytes are not parsed.
    private var failed = false

    init(link: ModbusLink) {
        self.link = link
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var buffer = unwrapInboundIn(data)
        if var held = partial {
            partial = nil
            held.writeBuffer(&buffer)
            buffer = held
        }
        let id = ObjectIdentifier(context.channel)
        do {
            while let frame = try Self.cutFrame(&buffer) {
                link.assumeIsolated { $0.received(transactionID: frame.transactionID, unit: frame.unitID, pdu: frame.pdu, channel: id) }
            }
        } catch {
            failed = true
            link.assumeIsolated { $0.connectionLost(channel: id, error: error) }
            context.close(promise: nil)
            return
        }
        if buffer.readableBytes > 0 {
            // Copied, so the channel's receive buffer is not pinned by a few bytes.
            var held = context.channel.allocator.buffer(capacity: MBAPFrame.headerLength + MBAPFrame.maxLengthField)
            held.writeBuffer(&buffer)
            partial = held
        }
    }

    /// One complete frame from the front of `buffer` (its PDU a slice of it, not a copy), or nil when
    /// the frame is not complete yet; throws when the header breaks the protocol.
    static func cutFrame(_ buffer: inout ByteBuffer) throws(ModbusError) -> (transactionID: UInt16, unitID: UInt8, pdu: ByteBuffer)? {
        let at = buffer.readerIndex
        guard buffer.readableBytes >= MBAPFrame.headerLength,
              let tid = buffer.getInteger(at: at, as: UInt16.self),
              let protocolID = buffer.getInteger(at: at + 2, as: UInt16.self),
              let length = buffer.getInteger(at: at + 4, as: UInt16.self),
              let unit = buffer.getInteger(at: at + 6, as: UInt8.self) else { return nil }
        let header = try MBAPFrame.parseHeader(transactionID: tid, protocolID: protocolID, length: length, unitID: unit)
        guard buffer.readableBytes >= header.frameLength else { return nil }
        buffer.moveReaderIndex(forwardBy: MBAPFrame.headerLength)
        guard let pdu = buffer.readSlice(length: header.frameLength - MBAPFrame.headerLength) else { return nil }
        return (header.transactionID, header.unitID, pdu)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        partial = nil
        link.assumeIsolated { $0.connectionLost(channel: id, error: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let id = ObjectIdentifier(context.channel)
        link.assumeIsolated { $0.connectionLost(channel: id, error: error) }
        context.close(promise: nil)
    }
}
