import NIOCore
import NIOHTTP1
import ShmBalance

// The HTTP side of `shmbal metrics`: NIO's HTTP/1 server pipeline parses the requests; this
// handler answers GET /metrics with the exposition text, and anything else with 404 or 405.

final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let exporter: MetricsExporter
    private var request: HTTPRequestHead?

    init(_ exporter: MetricsExporter) { self.exporter = exporter }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let head = request else { return }
            request = nil
            let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if path != "/metrics" {
                respond(context, head, .notFound, "try /metrics\n")
            } else if head.method != .GET && head.method != .HEAD {
                respond(context, head, .methodNotAllowed, "GET /metrics\n")
            } else {
                do {
                    respond(context, head, .ok, try exporter.exposition(), type: "text/plain; version=0.0.4; charset=utf-8")
                } catch {
                    respond(context, head, .serviceUnavailable, Array((TerminalText.safe(error.description) + "\n").utf8))
                }
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ text: String) {
        respond(context, head, status, Array(text.utf8))
    }

    private func respond(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: [UInt8],
                         type: String = "text/plain; charset=utf-8") {
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.count))])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
