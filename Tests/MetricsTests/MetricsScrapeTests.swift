import Foundation
import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// `shmbal metrics`: the books over HTTP in the Prometheus text format, read by prometheus_client
/// while another process (the CLI) changes them.
final class MetricsScrapeTests: SegmentTestCase {
    let usdc = ["exchange": "KRAKEN", "currency": "USDC"]

    func testAScrapeShowsTheBooksAndTheCountersMoveAfterAnAllocate() throws {
        try cli(["reset", "USDC", "10000", "--strategies", "5"])
        try cli(["credit", "USDC", "500"])
        try cli(["name", "USDC", "2", "grid-bot"])
        try cli(["allocate", "USDC", "2", "2000.25"])
        try cli(["quote", "write", "KRAKEN", "BALANCE", "USDC", "10001.5"])
        try cli(["reset", "USD", "700"])
        let (_, url) = try startExporter()

        let first = try scrape(url)
        XCTAssert(first.contentType.hasPrefix("text/plain; version=0.0.4"), first.contentType)
        XCTAssertEqual(first.value("shmbal_total", usdc), 10000)
        XCTAssertEqual(first.value("shmbal_pool", usdc), 7999.75)
        XCTAssertEqual(first.value("shmbal_allocated", usdc), 2000.25)
        XCTAssertEqual(first.value("shmbal_credit", usdc), 500)
        XCTAssertEqual(first.value("shmbal_headroom", usdc), 8499.75)
        XCTAssertEqual(first.value("shmbal_identity", usdc), 1)
        XCTAssertEqual(first.value("shmbal_drift", usdc), 1.5)
        XCTAssertEqual(first.value("shmbal_epoch", usdc), 1)
        XCTAssertEqual(first.value("shmbal_budget", usdc.merging(["slot": "2", "name": "grid-bot"]) { $1 }), 2000.25)
        XCTAssertEqual(first.value("shmbal_budget", usdc.merging(["slot": "4"]) { $1 }), 0)
        XCTAssertEqual(first.value("shmbal_total", ["currency": "USD"]), 700)
        XCTAssertEqual(first.samples.filter { $0.name == "shmbal_drift" }.count, 1, "drift only where a BALANCE quote exists")
        XCTAssertEqual(first.value("shmbal_records"), 2)
        XCTAssertEqual(first.value("shmbal_record_capacity"), Double(Geometry.defaults.recordCapacity))
        XCTAssertEqual(first.value("shmbal_activity_ring_head"), 5, "five entries: the quote is not an operation on the books")
        XCTAssertEqual(first.value("shmbal_record_operations_total", usdc), 3, "reset, credit, allocate (names live apart): kept by the segment")
        let allocate = usdc.merging(["operation": "allocate"]) { $1 }
        XCTAssertEqual(first.value("shmbal_operations_applied_total", allocate), 0, "counted from the exporter's start, present at 0")
        XCTAssertEqual(first.value("shmbal_lock_recoveries_total", usdc), 0)

        try cli(["allocate", "USDC", "3", "100"])
        try cli(["allocate", "USDC", "3", "1000000"], status: 3)
        let second = try scrape(url)
        XCTAssertEqual(second.value("shmbal_operations_applied_total", allocate), 1)
        XCTAssertEqual(second.value("shmbal_operations_refused_total", allocate), 1)
        XCTAssertEqual(second.value("shmbal_pool", usdc), 7899.75)
        XCTAssertEqual(second.value("shmbal_budget", usdc.merging(["slot": "3"]) { $1 }), 100)
        XCTAssertEqual(second.value("shmbal_headroom", usdc), 8399.75)
        XCTAssertEqual(second.value("shmbal_activity_ring_head"), 7)

        // Broken books show as such: a negative pool beyond the credit.
        try cli(["set", "USDC", "-600", "--index", "1"])
        let third = try scrape(url)
        XCTAssertEqual(third.value("shmbal_headroom", usdc), -100)
        XCTAssertEqual(third.value("shmbal_problems", usdc), 1)
        XCTAssertEqual(third.value("shmbal_operations_applied_total", usdc.merging(["operation": "set"]) { $1 }), 1)
    }

    func testBadInputIsOneClearLineAndANonZeroExit() throws {
        try cli(["reset", "USDC", "100"])
        func refused(_ listen: String, segment: String? = nil, status: Int32, saying text: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let r = try runShmbal(["metrics", "--listen", listen, "--segment", segment ?? seg], timeout: 30)
            XCTAssertEqual(r.status, status, r.err, file: file, line: line)
            XCTAssertEqual(r.err.split(separator: "\n").count, 1, "one line: \(r.err)", file: file, line: line)
            XCTAssert(r.err.contains(text), r.err, file: file, line: line)
            XCTAssertFalse(r.err.contains("\u{1b}"), "no escape sequence passes through", file: file, line: line)
            XCTAssertEqual(r.out, "", file: file, line: line)
        }
        try refused("localhost", status: 2, saying: "no port")
        try refused("127.0.0.1:65536", status: 2, saying: "the port must be a number")
        try refused("::1:9464", status: 2, saying: "an IPv6 host goes in brackets")
        try refused("\u{1b}[31mred:9464", status: 2, saying: "\\x1b[31mred:9464")
        try refused("127.0.0.1:0", segment: dir.file("missing"), status: 4, saying: "no segment there")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.file("missing")), "a missing segment is not created")
        let (_, url) = try startExporter()
        let busy = String(url.dropFirst("http://".count).prefix { $0 != "/" })
        try refused(busy, status: 2, saying: "cannot listen on \(busy): the address is already in use")
    }

    func testTheExporterStopsWhenItsSegmentFileIsRemoved() throws {
        try cli(["reset", "USDC", "100"])
        let (exporter, url) = try startExporter()
        XCTAssertEqual(try scrape(url).value("shmbal_total", usdc), 100)
        XCTAssertEqual(unlink(seg), 0)
        let end = exporter.wait(timeout: 10)
        XCTAssertEqual(end?.exitCode, 4, "stops with exit 4: \(exporter.errorOutput)")
        XCTAssert(exporter.errorOutput.contains("segment was removed"), exporter.errorOutput)
    }
}
