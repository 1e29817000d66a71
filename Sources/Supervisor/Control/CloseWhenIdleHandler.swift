import NIOCore

/// Closes a connection that has been idle for `timeout`: no request in flight and no new request.
///
/// Sits after the line decoder, so each inbound read is one request and each outbound write one
/// answer. The clock runs only while nothing is in flight: a `write`, `read` or `test` that takes
/// longer than the timeout still gets its answer, and the client then has a full `timeout` for its
/// next request. Bytes of an unfinished line do not reset it (a trickling client is still idle).
///
/// On `ControlConnections.Drain` (graceful shutdown) an idle connection closes at once and a busy
/// one right after the answer to its last request, so open clients never hold up a shutdown.
final class CloseWhenIdleHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let timeout: TimeAmount
    private var inFlight = 0
    private var timer: Scheduled<Void>?
    /// Set by `Drain`: close as soon as nothing is in flight.
    private var draining = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        inFlight += 1
        disarm()
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ControlConnections.Drain else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        draining = true
        if inFlight == 0 {
            disarm()
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // An answer without a request (e.g. "busy") never makes the count negative.
        inFlight = max(0, inFlight - 1)
        guard draining && inFlight == 0 else {
            if inFlight == 0 { arm(context) }
            context.write(data, promise: promise)
            return
        }
        // The last answer goes out, then the connection closes.
        disarm()
        let written = promise ?? context.eventLoop.makePromise()
        context.writeAndFlush(data, promise: written)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext) {
        disarm()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
