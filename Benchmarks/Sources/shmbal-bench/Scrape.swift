import CPeers
import Glibc
import ShmBalance

// Issue 14: a writer's allocate/release beside `shmbal metrics` scraped at 1 Hz, against the same
// writer with the exporter and its scraper stopped (SIGSTOP), in paired rounds of one run.

extension Suite {
    func scrape() throws {
        guard let shmbal = o.shmbal else {
            notes.append("Scrape row not measured: no `--shmbal` (Benchmarks/run builds it with scripts/build-release cli).")
            return
        }
        let s = try SwiftSubject(path: scratchPath("scrape"))
        defer { s.close() }
        let exporter = try Child.spawn(["metrics", "--listen", "127.0.0.1:0", "--segment", s.path], executable: shmbal)
        defer { _ = exporter.terminate() }
        var deadline = bench_now_ns() + 10_000_000_000
        var port = ""
        while port.isEmpty {
            if bench_now_ns() > deadline { throw BenchError("shmbal metrics did not start: \(readFile(exporter.outputPath) ?? "")") }
            usleep(10_000)
            if let text = readFile(exporter.outputPath), let r = text.firstRange(of: "http://127.0.0.1:") {
                port = String(text[r.upperBound...].prefix { $0.isNumber })
            }
        }
        let counterPath = scratchPath("scrape-counter")
        let counter = try SharedCounter(path: counterPath, create: true)
        defer { unlink(counterPath) }
        let scraper = try Child.spawn(["child-scrape", port, "1", counterPath])
        deadline = bench_now_ns() + 10_000_000_000
        while counter.value == 0 {
            if bench_now_ns() > deadline { throw BenchError("the scraper got no answer: \(readFile(scraper.outputPath) ?? "")") }
            usleep(10_000)
        }
        // Windows of a second each, so every "with" window holds the scrape a 1 Hz scraper makes
        // (and the exporter's 10 Hz look at the activity ring).
        let window: Int64 = o.quick ? 500_000_000 : 1_000_000_000
        let n = o.quick ? 6 : 11
        let p = try pairedWindows(s.books, s.rec, rounds: n, window: window, beside: [exporter, scraper], counter: counter)
        let ratios = p.ratios, withNs = p.withNs, scrapes = p.counted
        try scraper.terminateExpectingSignal()
        let ratio = median(ratios)
        log("1 Hz scrape: per-round ratios " + ratios.map { fmtRatio($0) }.joined(separator: " "))
        rows.append(Row(name: "**ShmBalance** writer beside `shmbal metrics` scraped at 1 Hz (other processes)", median: median(withNs),
                        throughput: 1e9 / median(withNs), ratio: ratio,
                        note: "ratio: with ÷ without the exporter and its scraper, \(n) paired rounds of \(window / 1_000_000) ms; \(fmt1(median(scrapes))) scrapes per window"))
        targets.append(("a 1 Hz scrape beside the writer: with ÷ without ≤ 1.02 (median of \(n) paired rounds)", ratio <= 1.02, fmtRatio(ratio)))
    }

    private func fmt1(_ x: Double) -> String { "\(Int(x.rounded()))" }
}

/// `child-scrape PORT HZ COUNTER_FILE`: GET /metrics from 127.0.0.1:PORT, HZ times a second, until
/// SIGTERM; every scrape answered 200 with the books' total adds one to the counter.
func childScrape(_ a: [String]) throws {
    guard a.count == 3, let port = UInt16(a[0]), let hz = Int64(a[1]), hz > 0 else { fail("bad child-scrape arguments") }
    let counter = try SharedCounter(path: a[2], create: false)
    let period = 1_000_000_000 / hz
    var next = bench_now_ns()
    var n: UInt64 = 0
    while true {
        let reply = try httpGet(port: port, path: "/metrics")
        guard reply.hasPrefix("HTTP/1.1 200"), reply.contains("shmbal_total{") else { throw BenchError("bad scrape: \(reply.prefix(200))") }
        n += 1
        counter.store(n)
        next += period
        if next < bench_now_ns() { next = bench_now_ns() + period }  // no catching up after a stop
        let wait = next - bench_now_ns()
        if wait > 0 {
            var req = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
            nanosleep(&req, nil)
        }
    }
}

/// One HTTP/1.1 GET over loopback, read to the end (Connection: close).
func httpGet(port: UInt16, path: String) throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket failed: errno \(errno)") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    guard rc == 0 else { throw BenchError("connect to 127.0.0.1:\(port) failed: errno \(errno)") }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { throw BenchError("send failed") }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 65536)
    while true {
        let got = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if got < 0 && errno == EINTR { continue }
        if got <= 0 { break }
        out += buf[0..<got]
    }
    return String(decoding: out, as: UTF8.self)
}
