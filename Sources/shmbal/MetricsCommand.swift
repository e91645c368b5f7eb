import ArgumentParser
import Glibc
import NIOCore
import NIOPosix
import ShmBalance

// `metrics --listen ADDRESS`: the books as Prometheus metrics over HTTP (SwiftNIO's HTTP/1
// server, MetricsHTTP.swift), the segment attached read-only.

struct Metrics: BooksCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the books as Prometheus metrics at http://ADDRESS/metrics (the segment attached read-only).",
        discussion: """
            Amounts are float64 (Prometheus has no other number); exact values stay in `get --json`. Counters of \
            operations applied and refused and of lock recoveries count the activity ring from the exporter's start. \
            Prints the address it serves on stdout once it listens (port 0 picks a free one). A bad or busy --listen \
            address is exit 2; when the segment file is removed, replaced or truncated it says so and ends with exit 4.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("IPv4:PORT or [IPv6]:PORT to listen on.", valueName: "address")) var listen = "127.0.0.1:9464"

    var access: Segment.AccessMode { .readOnly }

    func prepare() throws -> Work {
        let address = try ListenAddress(listen)
        return { books, target in try MetricsServer.serve(books, exchange: target.exchange, at: address) }
    }
}

/// A `--listen` address: a numeric IPv4 or bracketed IPv6 host, and a port (0: any free one).
struct ListenAddress: CustomStringConvertible {
    var host: String
    var port: Int
    var isIPv6: Bool

    init(_ text: String) throws {
        let bad = { (why: String) in CLIError(.badInput, "--listen '\(text)': \(why) (expected e.g. 127.0.0.1:9464 or [::1]:9464)") }
        guard let colon = text.lastIndex(of: ":") else { throw bad("no port") }
        var h = String(text[..<colon])
        let p = text[text.index(after: colon)...]
        guard !p.isEmpty, p.allSatisfy({ $0.isASCII && $0.isNumber }), let port = UInt16(p) else { throw bad("the port must be a number 0…65535") }
        isIPv6 = h.hasPrefix("[") && h.hasSuffix("]")
        if isIPv6 { h = String(h.dropFirst().dropLast()) }
        var buf = [UInt8](repeating: 0, count: 16)
        guard !h.isEmpty, inet_pton(isIPv6 ? AF_INET6 : AF_INET, h, &buf) == 1 else {
            throw bad(h.contains(":") && !isIPv6 ? "an IPv6 host goes in brackets" : "the host must be a numeric IP address")
        }
        host = h
        self.port = Int(port)
    }

    var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

enum MetricsServer {
    /// Serves until the segment file goes (exit 4); an address that cannot be listened on is exit 2.
    static func serve(_ books: Books, exchange: ShortName?, at address: ListenAddress) throws -> Never {
        let exporter = MetricsExporter(books, exchange: exchange)
        // One thread answers scrapes: a scrape is a few seqlock reads, and nothing else is served.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(exporter))
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.bind(to: try SocketAddress(ipAddress: address.host, port: address.port)).wait()
        } catch {
            throw listenError(error, address)
        }
        let shown = channel.localAddress.flatMap { a in a.port.map { p in a.protocol == .inet6 ? "[\(a.ipAddress ?? "")]:\(p)" : "\(a.ipAddress ?? ""):\(p)" } }
        print("shmbal metrics: serving http://\(shown ?? address.description)/metrics")
        fflush(nil)
        // The ring is followed between scrapes too (5 Hz: a 4096-entry ring then loses nothing
        // below ~20,000 operations a second), so counts survive a ring that wraps between two
        // scrapes; the file is watched at the same rate (SPEC §4: noticed within 1 s). Faster
        // polls cost a flat-out writer more (each poll then reads a whole ring).
        while true {
            if let gone = exporter.follow() {
                fflush(nil)
                throw CLIError(.segment(gone))
            }
            usleep(200_000)
        }
    }

    static func listenError(_ error: any Error, _ address: ListenAddress) -> CLIError {
        guard let io = error as? IOError else { return CLIError(.badInput, "cannot listen on \(address): \(error)") }
        let why = switch io.errnoCode {
        case EADDRINUSE: "the address is already in use (EADDRINUSE)"
        case EADDRNOTAVAIL: "the host is not an address of this machine (EADDRNOTAVAIL)"
        case EACCES: "permission denied (EACCES)"
        default: "\(String(cString: strerror(io.errnoCode))) (errno \(io.errnoCode))"
        }
        return CLIError(.badInput, "cannot listen on \(address): \(why)")
    }
}
