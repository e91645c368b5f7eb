import ArgumentParser
import Dispatch
import FlyingFox
import FlyingSocks
import FoundationEssentials  // Data, for FlyingFox's bodies
import Glibc
import ShmBalance

// `metrics --listen ADDRESS`: the books as Prometheus metrics over HTTP (FlyingFox), the segment
// attached read-only.

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
    var port: UInt16
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
        self.port = port
    }

    var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

enum MetricsServer {
    /// Serves until the segment file goes (exit 4) or the server fails (a busy address: exit 2).
    static func serve(_ books: Books, exchange: ShortName?, at address: ListenAddress) throws {
        let exporter = MetricsExporter(books, exchange: exchange)
        let server = address.isIPv6
            ? HTTPServer(address: try sockaddr_in6.inet6(ip6: address.host, port: address.port), logger: .disabled)
            : HTTPServer(address: try sockaddr_in.inet(ip4: address.host, port: address.port), logger: .disabled)
        let end = Outcome()
        Task {
            await server.appendRoute("GET /metrics") { _ in
                do {
                    let body = try await exporter.exposition()
                    return HTTPResponse(statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: Data(body))
                } catch {
                    return HTTPResponse(statusCode: .serviceUnavailable, body: Data(TerminalText.safe("\(error)").utf8))
                }
            }
            do { try await server.run() } catch { end.finish(Self.listenError(error, address)) }
        }
        Task {
            try await server.waitUntilListening(timeout: 30)
            let shown = await server.listeningAddress.map(Self.text) ?? address.description
            print("shmbal metrics: serving http://\(shown)/metrics")
            fflush(nil)
        }
        // The ring is followed between scrapes too (10 Hz), so counts survive a ring that wraps
        // between two scrapes; the file is watched at the same rate (SPEC §4: noticed within 1 s).
        Task {
            while true {
                if let gone = await exporter.follow() {
                    end.finish(CLIError(.segment(gone)))
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw end.wait()
    }

    static func listenError(_ error: any Error, _ address: ListenAddress) -> CLIError {
        if case SocketError.failed(let type, let errno, _) = error {
            let why = switch errno {
            case EADDRINUSE: "the address is already in use (EADDRINUSE)"
            case EADDRNOTAVAIL: "the host is not an address of this machine (EADDRNOTAVAIL)"
            case EACCES: "permission denied (EACCES)"
            default: "\(String(cString: strerror(errno))) (\(type.lowercased()), errno \(errno))"
            }
            return CLIError(.badInput, "cannot listen on \(address): \(why)")
        }
        return CLIError(.internalError, "the metrics server stopped: \(error)")
    }

    static func text(_ a: Socket.Address) -> String {
        switch a {
        case .ip4(let host, let port): return "\(host):\(port)"
        case .ip6(let host, let port): return "[\(host)]:\(port)"
        default: return "\(a)"
        }
    }
}

/// The first reason the server ends, handed from its tasks to the command's thread.
final class Outcome: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var mutex = pthread_mutex_t()
    private var error: CLIError?

    init() { pthread_mutex_init(&mutex, nil) }

    func finish(_ e: CLIError) {
        pthread_mutex_lock(&mutex)
        let first = error == nil
        if first { error = e }
        pthread_mutex_unlock(&mutex)
        if first { done.signal() }
    }

    func wait() -> CLIError {
        done.wait()
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return error!
    }
}
