import Foundation
@testable import ShmBalance
import ShmBalanceTestSupport
import XCTest

/// SPEC §4 "Every shared value keeps these promises": a value other processes read never becomes
/// visible before it is complete, whatever instruction its writer is killed at. The record state's
/// three points are the campaign's; these are the other values: quotes, names, new records, new
/// quotes, the default exchange.
final class PublishTests: XCTestCase {
    let exchange = ["--exchange", "KRAKEN"]

    /// A new quote, read by other threads while it is being written for the first time, is either
    /// absent or whole: never the zeros of an entry published before its value (the attack's
    /// "KRAKEN BALANCE USDC mid 0.0 timestamp 0").
    func testANewQuoteIsNeverSeenBeforeItsValue() throws {
        let dir = TempDir()
        let books = try Books.open(dir.file("seg"), .readWriteCreating(geometry: Geometry(recordCapacity: 4, quoteCapacity: 4096, ringCapacity: 16)))
        let keys = (0..<3000).map { try! QuoteKey("KRAKEN", "BALANCE", "C\($0)") }
        let done = UnsafeAtomicFlag()
        let bad = UnsafeAtomicCounter()
        let seen = UnsafeAtomicCounter()
        let readers = (0..<2).map { _ in
            Thread {
                while !done.isSet {
                    guard let all = try? books.allQuotes() else { bad.increment(); continue }
                    for (_, q) in all {
                        seen.increment()
                        if q.mid == 0 || q.timestamp == 0 || q.localTimestamp != q.timestamp + 1 { bad.increment() }
                    }
                }
            }
        }
        readers.forEach { $0.start() }
        for (i, k) in keys.enumerated() {
            try books.writeQuote(k, SingleQuote(timestamp: Int64(i + 1), localTimestamp: Int64(i + 2), mid: Double(i + 1)))
        }
        done.set()
        while readers.contains(where: { !$0.isFinished }) { usleep(1_000) }
        XCTAssertEqual(bad.value, 0, "a reader saw a quote that was not completely written")
        XCTAssertGreaterThan(seen.value, 1000, "the readers must actually have raced the writer")
        XCTAssertEqual(try books.allQuotes().count, keys.count)
    }

    /// A writer killed at every point of every kind of publish leaves each value wholly old or
    /// wholly new; the next writer goes on at once.
    func testAWriterKilledInsideAnyPublishLeavesNothingHalfVisible() throws {
        let cases: [(op: String, kind: PublishedValue, currency: String)] = [
            ("quote", .newQuotes, "NEW"), ("quote", .quote, "USDC"), ("name", .recordState, "USDC"),
            ("create", .newRecords, "NEW"), ("adjust", .recordState, "USDC"),
        ]
        for c in cases {
            for stage in FaultPoint.Stage.allCases {
                let point = FaultPoint(stage, c.kind)
                let dir = TempDir()
                let seg = dir.file("seg")
                XCTAssertEqual(try runShmbal(["reset", "USDC", "1000", "--segment", seg] + exchange).status, 0)
                XCTAssertEqual(try runShmbal(["quote", "write", "KRAKEN", "BALANCE", "USDC", "7", "--segment", seg]).status, 0)
                let park = try spawnProduct(Product.campaign, ["park", "--segment", seg, "--currency", c.currency,
                                                                           "--op", c.op, "--point", String(point.rawValue), "--seconds", "60"], outputIn: dir.path)
                XCTAssertTrue(park.waitForOutput("parked"), "\(point): \(park.output)")
                _ = park.kill()  // SIGKILL, parked exactly there

                let published = stage == .publishedBeforeUnlock
                let books = try Books.open(seg, .readWrite)
                let what = "\(c.op) killed at \(point)"
                switch (c.op, c.kind) {
                case (_, .newQuotes):
                    let q = try books.quote(try QuoteKey("KRAKEN", "BALANCE", "NEW"))
                    XCTAssertEqual(q.map(\.mid), published ? 1 : nil, what)
                case (_, .quote):
                    XCTAssertEqual(try books.quote(try QuoteKey("KRAKEN", "BALANCE", "USDC"))?.mid, published ? 1 : 7, what)
                case ("name", _):
                    XCTAssertEqual(try books.get(try BookKey("KRAKEN", "USDC")).names[0].description, published ? "parked" : "total", what)
                case (_, .newRecords):
                    XCTAssertEqual(books.record(try BookKey("KRAKEN", "NEW")) != nil, published, what)
                default:
                    XCTAssertEqual(try books.balance(try BookKey("KRAKEN", "USDC")), Amount(whole: published ? 1001 : 1000)!, what)
                }
                // The lock the dead writer held is taken at once, and every value can be written again.
                XCTAssertEqual(try runShmbal(["quote", "write", "KRAKEN", "BALANCE", "NEW", "3", "--segment", seg]).status, 0, what)
                XCTAssertEqual(try runShmbal(["name", "USDC", "2", "grid", "--segment", seg] + exchange).status, 0, what)
                XCTAssertEqual(try runShmbal(["reset", "NEW", "5", "--segment", seg] + exchange).status, 0, what)
                XCTAssertEqual(try runShmbal(["adjust", "USDC", "1", "--segment", seg] + exchange).status, 0, what)
                let check = try runShmbal(["check", "--segment", seg])
                XCTAssertEqual(check.status, 0, "\(what): \(check.out) \(check.err)")
            }
        }
    }

    /// Two first creators of one key make one record (the key is looked for again under the table lock).
    func testManyFirstCreatorsOfOneKeyMakeOneRecord() throws {
        for round in 0..<5 {
            let dir = TempDir()
            let seg = dir.file("seg")
            _ = try Books.open(seg, .readWriteCreating())
            let books = (0..<4).map { _ in try! Books.open(seg, .readWrite) }
            let key = try BookKey("KRAKEN", "R\(round)")
            let start = UnsafeAtomicFlag()
            let threads = books.enumerated().map { (i, b) in
                Thread {
                    while !start.isSet {}
                    if i % 2 == 0 { try? b.reset(key, balance: Amount(whole: 1)!) } else { _ = try? b.reconcile(key, exchangeBalance: Amount(whole: 1)!) }
                }
            }
            threads.forEach { $0.start() }
            start.set()
            while threads.contains(where: { !$0.isFinished }) { usleep(500) }
            XCTAssertEqual(books[0].keys().filter { $0 == key }.count, 1, "round \(round): \(books[0].keys())")
        }
    }
}

/// Tiny cross-thread helpers for the tests above (atomics via a lock: correctness, not speed).
final class UnsafeAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    func set() { lock.lock(); flag = true; lock.unlock() }
}

final class UnsafeAtomicCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    func increment() { lock.lock(); n += 1; lock.unlock() }
}
