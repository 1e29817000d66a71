import ModbusKit
import NIOCore

/// Cuts the TCP byte stream into MBAP frames. A header that breaks the protocol (protocol id ≠ 0,
/// impossible length) is an error: the stream cannot be resynchronised, so the connection is dropped.
/// Memory stays bounded: a frame is at most 260 bytes and is consumed as soon as it is complete.
struct MBAPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = MBAPFrame

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let at = buffer.readerIndex
        guard buffer.readableBytes >= MBAPFrame.headerLength,
              let tid = buffer.getInteger(at: at, as: UInt16.self),
              let protocolID = buffer.getInteger(at: at + 2, as: UInt16.self),
              let length = buffer.getInteger(at: at + 4, as: UInt16.self),
              let unit = buffer.getInteger(at: at + 6, as: UInt8.self) else { return .needMoreData }
        let header = try MBAPFrame.parseHeader(transactionID: tid, protocolID: protocolID, length: length, unitID: unit)
        guard buffer.readableBytes >= header.frameLength else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: MBAPFrame.headerLength)
        let pdu = buffer.readBytes(length: header.frameLength - MBAPFrame.headerLength) ?? []
        context.fireChannelRead(wrapInboundOut(MBAPFrame(transactionID: header.transactionID, unitID: header.unitID, pdu: pdu)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Hands complete frames and connection loss to the link (the last handler of a link's channel).
final class ModbusTCPResponseHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = MBAPFrame

    private let link: ModbusLink

    init(link: ModbusLink) {
        self.link = link
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let id = ObjectIdentifier(context.channel)
        link.assumeIsolated { $0.received(frame, channel: id) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let id = ObjectIdentifier(context.channel)
        link.assumeIsolated { $0.connectionLost(channel: id, error: nil) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let id = ObjectIdentifier(context.channel)
        link.assumeIsolated { $0.connectionLost(channel: id, error: error) }
        context.close(promise: nil)
    }
}
